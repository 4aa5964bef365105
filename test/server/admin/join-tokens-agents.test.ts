import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createAdminApp } from '../helpers/context.js';

const TD = 'example.org';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test('a join token is shown once; only its SHA-256 is in the database', async (t) => {
  const a = await createAdminApp(t);
  const res = await a.call({ method: 'POST', url: '/v1/join-tokens', payload: { ttlSeconds: 120 } });
  assert.equal(res.statusCode, 200, res.body);
  const { token, id, agentSpiffeId, expiresAt } = res.json();
  assert.match(token, /^[0-9a-f]{64}$/, '32 random bytes, hex (never read as a flag)');
  assert.match(id, UUID);
  assert.equal(agentSpiffeId, `spiffe://${TD}/meshward/agent/join_token/${id}`);
  assert.ok(Math.abs(expiresAt - (Math.floor(Date.now() / 1000) + 120)) <= 2);

  const db = new Database(join(a.dir, 'datastore.sqlite3'), { readonly: true });
  t.after(() => db.close());
  const rows = db.prepare('SELECT * FROM join_tokens').all() as Array<Record<string, unknown>>;
  assert.equal(rows.length, 1);
  assert.equal(rows[0]!.token_hash, createHash('sha256').update(token).digest('hex'));
  assert.equal(rows[0]!.alias_spiffe_id, null);
  const dump = JSON.stringify(db.prepare('SELECT * FROM join_tokens').all()) + JSON.stringify(db.prepare('SELECT * FROM audit').all());
  assert.ok(!dump.includes(token), 'the token itself is stored nowhere');

  const consumed = await a.store.consumeJoinToken(createHash('sha256').update(token).digest('hex'), Math.floor(Date.now() / 1000));
  assert.equal(consumed?.id, id);
  const second = await a.call({ method: 'POST', url: '/v1/join-tokens', payload: {} });
  assert.notEqual(second.json().token, token);
  assert.ok(Math.abs(second.json().expiresAt - (Math.floor(Date.now() / 1000) + 600)) <= 2, 'default TTL 600 s');
});

test('a join token with aliasSpiffeId also creates the node-alias entry', async (t) => {
  const a = await createAdminApp(t);
  const alias = `spiffe://${TD}/nodes/web-hosts`;
  const res = await a.call({ method: 'POST', url: '/v1/join-tokens', payload: { aliasSpiffeId: alias } });
  const { id } = res.json();
  const entries = await a.store.listEntries({ spiffeId: alias });
  assert.equal(entries.length, 1);
  assert.equal(entries[0]!.parentId, `spiffe://${TD}/meshward/server`);
  assert.deepEqual(entries[0]!.selectors, [{ type: 'join_token', value: id }]);
  const db = new Database(join(a.dir, 'datastore.sqlite3'), { readonly: true });
  t.after(() => db.close());
  assert.equal((db.prepare('SELECT alias_spiffe_id FROM join_tokens').get() as { alias_spiffe_id: string }).alias_spiffe_id, alias);
});

test('invalid join token requests: 400 naming the field, nothing written', async (t) => {
  const a = await createAdminApp(t);
  for (const [payload, field] of [
    [{ ttlSeconds: 0 }, 'ttlSeconds'],
    [{ ttlSeconds: -1 }, 'ttlSeconds'],
    [{ ttlSeconds: 1e12 }, 'ttlSeconds'],
    [{ aliasSpiffeId: 'spiffe://other.org/x' }, 'aliasSpiffeId'],
    [{ aliasSpiffeId: 'not an id' }, 'aliasSpiffeId'],
    [{ aliasSpiffeId: `spiffe://${TD}/meshward/agent/x` }, 'aliasSpiffeId'],
    [{ spiffeId: `spiffe://${TD}/x` }, 'spiffeId'],
  ] as const) {
    const res = await a.call({ method: 'POST', url: '/v1/join-tokens', payload });
    assert.equal(res.statusCode, 400, JSON.stringify(payload));
    assert.equal(res.json().error.field, field);
  }
  const db = new Database(join(a.dir, 'datastore.sqlite3'), { readonly: true });
  t.after(() => db.close());
  assert.equal((db.prepare('SELECT count(*) AS n FROM join_tokens').get() as { n: number }).n, 0);
  assert.equal((await a.store.listEntries()).length, 0);
});

test('agents: list, ban, evict; unknown agent 404; bad ID 400', async (t) => {
  const a = await createAdminApp(t);
  const now = Math.floor(Date.now() / 1000);
  const agentA = `spiffe://${TD}/meshward/agent/join_token/a`;
  const agentB = `spiffe://${TD}/meshward/agent/join_token/b`;
  for (const id of [agentA, agentB]) {
    await a.store.upsertAgent({ spiffeId: id, attestationType: 'join_token', selectors: [{ type: 'join_token', value: id.slice(-1) }], serialNumber: 'aa', expiresAt: now + 3600 }, now);
  }
  const list = await a.call({ method: 'GET', url: '/v1/agents' });
  assert.deepEqual(list.json().agents.map((x: { spiffeId: string }) => x.spiffeId).sort(), [agentA, agentB]);
  assert.deepEqual(Object.keys(list.json().agents[0]).sort(), ['attestationType', 'banned', 'createdAt', 'expiresAt', 'selectors', 'serialNumber', 'spiffeId', 'updatedAt']);

  const banned = await a.call({ method: 'POST', url: '/v1/agents/ban', payload: { spiffeId: agentA } });
  assert.equal(banned.statusCode, 200);
  assert.equal(banned.json().banned, true);
  assert.equal((await a.store.getAgent(agentA))!.banned, true);

  const evicted = await a.call({ method: 'POST', url: '/v1/agents/evict', payload: { spiffeId: agentB } });
  assert.equal(evicted.json().spiffeId, agentB);
  assert.equal(await a.store.getAgent(agentB), null);

  assert.equal((await a.call({ method: 'POST', url: '/v1/agents/ban', payload: { spiffeId: agentB } })).statusCode, 404);
  const bad = await a.call({ method: 'POST', url: '/v1/agents/ban', payload: { spiffeId: 'spiffe://other.org/agent' } });
  assert.equal(bad.statusCode, 400);
  assert.equal(bad.json().error.field, 'spiffeId');
  const missing = await a.call({ method: 'POST', url: '/v1/agents/evict', payload: {} });
  assert.equal(missing.json().error.field, 'spiffeId');
});

test('revoke deletes the entries, bans the agent and records the revocation', async (t) => {
  const a = await createAdminApp(t);
  const now = Math.floor(Date.now() / 1000);
  const agent = `spiffe://${TD}/meshward/agent/join_token/leaked`;
  await a.store.upsertAgent({ spiffeId: agent, attestationType: 'join_token', selectors: [], serialNumber: 'c0ffee', expiresAt: now + 3600 }, now);
  const workload = `spiffe://${TD}/web`;
  const created = await a.call({
    method: 'POST',
    url: '/v1/entries',
    payload: {
      entries: [
        { spiffeId: workload, parentId: agent, selectors: [{ type: 'unix', value: 'uid:1' }], x509SvidTtl: 7200 },
        { spiffeId: workload, parentId: `spiffe://${TD}/other`, selectors: [{ type: 'unix', value: 'uid:1' }] },
        { spiffeId: `spiffe://${TD}/db`, parentId: agent, selectors: [{ type: 'unix', value: 'uid:2' }] },
      ],
    },
  });
  const [web1, web2, db] = created.json().results.map((r: { entry: { id: string } }) => r.entry.id);

  const res = await a.call({ method: 'POST', url: '/v1/revoke', payload: { spiffeId: workload, reason: 'key leaked in a log' } });
  assert.equal(res.statusCode, 200, res.body);
  assert.deepEqual(res.json().deletedEntries.sort(), [web1, web2].sort());
  assert.deepEqual(res.json().bannedAgents, []);
  assert.deepEqual((await a.store.listEntries()).map((e) => e.id), [db]);
  const revocations = await a.store.listRevocations(now);
  assert.equal(revocations.length, 1);
  assert.equal(revocations[0]!.spiffeId, workload);
  assert.equal(revocations[0]!.reason, 'key leaked in a log');
  assert.ok(revocations[0]!.expiresAt >= now + 7200, 'kept at least as long as the longest TTL of its entries');

  const agentRes = await a.call({ method: 'POST', url: '/v1/revoke', payload: { spiffeId: agent } });
  assert.deepEqual(agentRes.json(), { spiffeId: agent, deletedEntries: [], bannedAgents: [agent], revokedSerials: ['c0ffee'] });
  assert.equal((await a.store.getAgent(agent))!.banned, true);
  const all = await a.store.listRevocations(now);
  assert.equal(all.find((r) => r.spiffeId === agent)?.serialNumber, 'c0ffee');

  const again = await a.call({ method: 'POST', url: '/v1/revoke', payload: { spiffeId: agent } });
  assert.equal(again.statusCode, 200, 'revoke is idempotent');
  const bad = await a.call({ method: 'POST', url: '/v1/revoke', payload: { spiffeId: workload, reason: 'a\u0000b' } });
  assert.equal(bad.json().error.field, 'reason');
  const records = await a.store.listAudit();
  const audit = records.find((r) => r.action === 'revoke' && r.target === workload && r.outcome === 'success');
  assert.ok(audit);
  assert.deepEqual((audit.detail as { deletedEntries: string[] }).deletedEntries.sort(), [web1, web2].sort());
});
