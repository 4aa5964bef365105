import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { Bulkhead, ConnectionLimiter, GuardError, KeyedBulkheads, type Release } from '../../src/guard/index.js';

function refusal(fn: () => unknown): GuardError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof GuardError);
    return error;
  }
  assert.fail('expected a refusal');
}

test('full bulkhead with no queue refuses at once with 503', () => {
  const b = new Bulkhead({ maxConcurrent: 2 });
  const r1 = b.acquire() as Release;
  const r2 = b.acquire() as Release;
  assert.equal(typeof r1, 'function');
  const err = refusal(() => b.acquire());
  assert.equal(err.code, 'ERR_GUARD_BULKHEAD_FULL');
  assert.equal(err.status, 503);
  r1();
  r1(); // idempotent
  assert.equal(b.active, 1);
  assert.equal(typeof b.acquire(), 'function');
  r2();
});

test('queue bound honoured: maxQueue wait, the next is refused, slots are handed over in order', async () => {
  const b = new Bulkhead({ maxConcurrent: 1, maxQueue: 2, queueTimeoutMs: 60_000 });
  const first = b.acquire() as Release;
  const order: number[] = [];
  const q1 = (b.acquire() as Promise<Release>).then((r) => (order.push(1), r));
  const q2 = (b.acquire() as Promise<Release>).then((r) => (order.push(2), r));
  assert.equal(b.queued, 2);
  refusal(() => b.acquire());
  first();
  const r1 = await q1;
  assert.equal(b.active, 1, 'the slot moved to the waiter');
  r1();
  (await q2)();
  assert.deepEqual(order, [1, 2]);
  assert.equal(b.active, 0);
});

test('queue timeout rejects the waiter with 503 (fake timers)', async () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    const b = new Bulkhead({ maxConcurrent: 1, maxQueue: 1, queueTimeoutMs: 100 });
    const held = b.acquire() as Release;
    const waiting = b.acquire() as Promise<Release>;
    mock.timers.tick(99);
    assert.equal(b.queued, 1);
    mock.timers.tick(1);
    await assert.rejects(waiting, (e: unknown) => e instanceof GuardError && e.code === 'ERR_GUARD_BULKHEAD_FULL' && /timeout/.test(e.message));
    assert.equal(b.queued, 0);
    held();
  } finally {
    mock.timers.reset();
  }
});

test('an aborted waiter leaves the queue', async () => {
  const b = new Bulkhead({ maxConcurrent: 1, maxQueue: 1 });
  const held = b.acquire() as Release;
  const ac = new AbortController();
  const waiting = b.acquire(ac.signal) as Promise<Release>;
  ac.abort();
  await assert.rejects(waiting, GuardError);
  assert.equal(b.queued, 0);
  held();
  assert.equal(b.active, 0);
});

test('per-caller bulkheads: isolated, created lazily, dropped when idle, bounded', () => {
  const rejects: string[] = [];
  const k = new KeyedBulkheads({ maxConcurrent: 1, maxKeys: 2, onReject: (key, why) => rejects.push(`${key}:${why}`) });
  const a = k.acquire('a') as Release;
  refusal(() => k.acquire('a'));
  const b = k.acquire('b') as Release;
  assert.equal(k.size, 2);
  refusal(() => k.acquire('c'));
  assert.deepEqual(rejects, ['a:full', 'c:too-many-keys']);
  a();
  assert.equal(k.size, 1, 'idle bulkhead dropped');
  assert.equal(k.get('a'), undefined);
  const c = k.acquire('c') as Release;
  b();
  c();
  assert.equal(k.size, 0);
});

test('connection limiter per caller', () => {
  const c = new ConnectionLimiter({ maxPerKey: 2, maxKeys: 2 });
  const a1 = c.open('a');
  const a2 = c.open('a');
  assert.equal(c.open('a'), undefined);
  assert.ok(c.open('b'));
  assert.equal(c.open('c'), undefined, 'bounded distinct callers');
  assert.equal(c.rejected, 2);
  a1?.();
  a1?.();
  assert.equal(c.count('a'), 1);
  a2?.();
  assert.equal(c.count('a'), 0);
  assert.equal(c.size, 1);
});
