import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import { Auditor, openPostgresSink, openSqliteSink, sha256Hex } from '../../src/audit/index.js';
import { sample, tempDir } from './helpers.js';
import { startTcpRelay, viaRelay } from '../helpers/tcp-relay.js';

const PG_URL = process.env.MESHWARD_TEST_PG_URL;

async function adminQuery(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

async function pgSchema(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const schema = `meshward_audit_test_${randomBytes(6).toString('hex')}`;
  await adminQuery(`CREATE SCHEMA ${schema}`);
  t.after(() => adminQuery(`DROP SCHEMA IF EXISTS ${schema} CASCADE`));
  return schema;
}

test('SQLite sink: writes a chain that verifies, resumes it on reopen, and detects a changed row', async (t) => {
  const path = join(tempDir(t), 'audit.db');
  let auditor = new Auditor({ sink: openSqliteSink(path) });
  for (let i = 0; i < 20; i++) auditor.recordAllowed(sample({ requestId: `a${i}` }));
  await auditor.recordDenial(sample({ decision: 'deny', requestId: 'd' }));
  await auditor.close();
  const sink = openSqliteSink(path);
  assert.equal(sink.head().seq, 21);
  auditor = new Auditor({ sink });
  auditor.recordAllowed(sample({ requestId: 'after-reopen' }));
  await auditor.flush();
  assert.deepEqual([sink.verify().ok, sink.verify().records], [true, 22]);
  await auditor.close();

  const db = new Database(path);
  const line = (db.prepare('SELECT line FROM meshward_audit WHERE seq = 7').pluck().get() as string).replace('"status":200', '"status":500');
  db.prepare('UPDATE meshward_audit SET line = ? WHERE seq = 7').run(line);
  db.prepare('DELETE FROM meshward_audit WHERE seq = 15').run();
  db.close();
  const again = openSqliteSink(path);
  const r = again.verify();
  assert.deepEqual([r.ok, r.firstBadLine], [false, 7]);
  await again.close();
});

test('SQLite sink: an invalid table name is refused', () => {
  assert.throws(() => openSqliteSink('/tmp/x.db', { table: 'audit; DROP TABLE x' }), { code: 'ERR_AUDIT_INVALID' });
});

test('PostgreSQL sink: writes a chain that verifies, per stream, and resumes it', async (t) => {
  assert.ok(PG_URL, 'MESHWARD_TEST_PG_URL is not set: the PostgreSQL audit sink tests need it (e.g. postgres://postgres@127.0.0.1:5432/test)');
  const schema = await pgSchema(t);
  const a = await openPostgresSink(PG_URL, { schema, stream: 'proxy-a' });
  const b = await openPostgresSink(PG_URL, { schema, stream: 'proxy-b' });
  const auditorA = new Auditor({ sink: a });
  const auditorB = new Auditor({ sink: b });
  for (let i = 0; i < 30; i++) {
    auditorA.recordAllowed(sample({ requestId: `a${i}` }));
    if (i % 3 === 0) await auditorB.recordDenial(sample({ decision: 'deny', requestId: `b${i}` }));
  }
  await auditorA.close();
  await auditorB.close();

  const reopened = await openPostgresSink(PG_URL, { schema, stream: 'proxy-a' });
  assert.equal(reopened.head().seq, 30);
  const auditor = new Auditor({ sink: reopened });
  await auditor.recordDenial(sample({ decision: 'deny', requestId: 'after' }));
  const r = await reopened.verify();
  assert.deepEqual([r.ok, r.records], [true, 31]);
  const rb = await (await openPostgresSink(PG_URL, { schema, stream: 'proxy-b' })).verify();
  assert.deepEqual([rb.ok, rb.records], [true, 10]);

  await adminQuery(`DELETE FROM ${schema}.meshward_audit WHERE stream = 'proxy-a' AND seq = 12`);
  const tampered = await reopened.verify();
  assert.deepEqual([tampered.ok, tampered.firstBadLine], [false, 12]);
  assert.match(tampered.problem!, /removed/);
  await auditor.close();
});

test('PostgreSQL sink: two writers on one stream never fork the chain', async (t) => {
  assert.ok(PG_URL, 'MESHWARD_TEST_PG_URL is not set');
  const schema = await pgSchema(t);
  const one = new Auditor({ sink: await openPostgresSink(PG_URL, { schema }) });
  const two = new Auditor({ sink: await openPostgresSink(PG_URL, { schema }) });
  const waits: Promise<void>[] = [];
  for (let i = 0; i < 20; i++) waits.push(one.recordDenial(sample({ requestId: `one${i}` })), two.recordDenial(sample({ requestId: `two${i}` })));
  await Promise.all(waits);
  await one.close();
  await two.close();
  const check = await openPostgresSink(PG_URL, { schema });
  const r = await check.verify();
  assert.deepEqual([r.ok, r.records], [true, 40]);
  await check.close();
});

test('PostgreSQL sink: an unreachable server fails with ERR_AUDIT_SINK_UNAVAILABLE and no password in the message', async () => {
  const password = `pw-${randomBytes(4).toString('hex')}`;
  await assert.rejects(openPostgresSink(`postgres://someone:${password}@127.0.0.1:1/db`, { connectionTimeoutMs: 1000 }), (err: Error & { code: string }) => {
    assert.equal(err.code, 'ERR_AUDIT_SINK_UNAVAILABLE');
    assert.ok(!err.message.includes(password), err.message);
    assert.ok(!JSON.stringify(err).includes(password));
    return true;
  });
  assert.equal(sha256Hex(''), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
});

test('PostgreSQL sink: a connection reset while a write holds the client fails that write, never the process', async (t) => {
  assert.ok(PG_URL, 'MESHWARD_TEST_PG_URL is not set: the PostgreSQL audit sink tests need it (e.g. postgres://postgres@127.0.0.1:5432/test)');
  const schema = await pgSchema(t);
  const target = new URL(PG_URL);
  const relay = await startTcpRelay(target.hostname, Number(target.port || 5432));
  t.after(() => relay.close());
  const sink = await openPostgresSink(viaRelay(PG_URL, relay), { schema, stream: 'reset' });
  const auditor = new Auditor({ sink });
  t.after(() => auditor.close().catch(() => {}));
  // Hold the table so the sink's write waits on the server, its client checked out.
  const locker = new pg.Client({ connectionString: PG_URL });
  await locker.connect();
  t.after(() => locker.end());
  await locker.query('BEGIN');
  await locker.query(`LOCK TABLE ${schema}.meshward_audit IN ACCESS EXCLUSIVE MODE`);
  const denial = auditor.recordDenial(sample({ decision: 'deny', requestId: 'during-reset' }));
  await new Promise((r) => setTimeout(r, 300));
  relay.reset();
  await assert.rejects(denial, { code: 'ERR_AUDIT_WRITE_FAILED' });
  await locker.query('ROLLBACK');
});
