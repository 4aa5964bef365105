import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { AuditError, Auditor, GENESIS_HEAD, openFileSink, verifyAuditFile, type AuditRecord, type AuditSink } from '../../src/audit/index.js';
import { sample, tempDir } from './helpers.js';

/** A sink whose writes wait until released, and can be made to fail. */
class StallingSink implements AuditSink {
  readonly kind = 'test';
  written: AuditRecord[] = [];
  durableCalls = 0;
  fail = false;
  #release: Array<() => void> = [];
  stalled = true;
  head() {
    return GENESIS_HEAD;
  }
  async append(records: readonly AuditRecord[], durable: boolean): Promise<void> {
    if (this.stalled) await new Promise<void>((r) => this.#release.push(r));
    if (this.fail) throw new AuditError('ERR_AUDIT_WRITE_FAILED', 'disk on fire');
    this.written.push(...records);
    if (durable) this.durableCalls += 1;
  }
  release() {
    this.stalled = false;
    for (const r of this.#release.splice(0)) r();
  }
  async close() {}
}

test('case 88: a full buffer drops allowed records and counts them; denials still go through', async () => {
  const sink = new StallingSink();
  const dropped: number[] = [];
  const auditor = new Auditor({ sink, maxBuffered: 5, maxBatch: 100, flushIntervalMs: 60_000, onDropped: (n) => dropped.push(n) });
  const accepted = Array.from({ length: 8 }, (_, i) => auditor.recordAllowed(sample({ requestId: `a${i}` })));
  assert.deepEqual(accepted, [true, true, true, true, true, false, false, false]);
  assert.equal(auditor.stats().dropped, 3);
  assert.deepEqual(dropped, [1, 1, 1]);
  const denial = auditor.recordDenial(sample({ decision: 'deny', requestId: 'd1' }));
  sink.release();
  await denial;
  assert.deepEqual(sink.written.map((r) => r.requestId), ['a0', 'a1', 'a2', 'a3', 'a4', 'd1']);
  assert.ok(sink.durableCalls >= 1);
  await auditor.close();
});

test('a denial resolves only after its durable write; allowed records are written in batches without waiting', async () => {
  const sink = new StallingSink();
  const auditor = new Auditor({ sink, maxBatch: 3, flushIntervalMs: 60_000 });
  let done = false;
  const denial = auditor.recordDenial(sample({ decision: 'deny' })).then(() => (done = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(done, false);
  sink.release();
  await denial;
  assert.equal(done, true);
  for (let i = 0; i < 3; i++) auditor.recordAllowed(sample({ requestId: `b${i}` })); // a full batch is written at once
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(sink.written.length, 4);
  await auditor.close();
});

test('a failing sink: records counted as failed, the denial rejects, the auditor reports unhealthy until a write succeeds', async () => {
  const sink = new StallingSink();
  sink.stalled = false;
  sink.fail = true;
  const failed: number[] = [];
  const auditor = new Auditor({ sink, flushIntervalMs: 60_000, onFailed: (n) => failed.push(n) });
  auditor.recordAllowed(sample());
  await assert.rejects(auditor.recordDenial(sample({ decision: 'deny' })), { code: 'ERR_AUDIT_WRITE_FAILED' });
  assert.equal(auditor.stats().failed, 2);
  assert.deepEqual(failed, [2]);
  assert.equal(auditor.healthy, false);
  assert.throws(() => auditor.assertHealthy(), { code: 'ERR_AUDIT_SINK_FAILING' });
  // must-audit: a route that cannot be audited is refused (the proxy answers 503 on this rejection)
  await assert.rejects(auditor.recordDurable(sample()), { code: 'ERR_AUDIT_WRITE_FAILED' });
  sink.fail = false;
  await auditor.recordDurable(sample());
  assert.equal(auditor.healthy, true);
  await auditor.close();
});

test('the file sink on a full disk (/dev/full): write failures are surfaced, never silent', async () => {
  const sink = await openFileSink('/dev/full');
  const auditor = new Auditor({ sink, flushIntervalMs: 60_000 });
  await assert.rejects(auditor.recordDenial(sample({ decision: 'deny' })), (err: AuditError) => err.code === 'ERR_AUDIT_WRITE_FAILED' && /ENOSPC/.test(err.message));
  assert.equal(auditor.stats().failed, 1);
  assert.equal(auditor.healthy, false);
  await auditor.close().catch(() => {});
});

test('allowed records are written within the flush interval, and close() flushes the rest', async (t) => {
  const path = join(tempDir(t), 'audit.jsonl');
  const auditor = new Auditor({ sink: await openFileSink(path), flushIntervalMs: 20, maxBatch: 1000 });
  auditor.recordAllowed(sample({ requestId: 'tick' }));
  for (let i = 0; i < 100 && !readFileSync(path, 'utf8').includes('tick'); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(readFileSync(path, 'utf8').includes('"tick"'));
  auditor.recordAllowed(sample({ requestId: 'at-close' }));
  await auditor.close();
  assert.ok(readFileSync(path, 'utf8').includes('"at-close"'));
  assert.equal(auditor.recordAllowed(sample()), false);
  await assert.rejects(auditor.recordDenial(sample()), { code: 'ERR_AUDIT_CLOSED' });
  assert.equal((await verifyAuditFile(path)).records, 2);
});

test('concurrent denials and allowed records keep one unbroken chain', async (t) => {
  const path = join(tempDir(t), 'audit.jsonl');
  const auditor = new Auditor({ sink: await openFileSink(path), maxBatch: 7 });
  const waits: Promise<void>[] = [];
  for (let i = 0; i < 300; i++) {
    if (i % 10 === 0) waits.push(auditor.recordDenial(sample({ decision: 'deny', requestId: `d${i}` })));
    else auditor.recordAllowed(sample({ requestId: `a${i}` }));
  }
  await Promise.all(waits);
  await auditor.close();
  const r = await verifyAuditFile(path);
  assert.deepEqual([r.ok, r.records], [true, 300]);
  const ids = readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l).requestId);
  assert.deepEqual(ids, Array.from({ length: 300 }, (_, i) => (i % 10 === 0 ? `d${i}` : `a${i}`)));
});
