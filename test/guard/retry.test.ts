import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { GuardError, OutlierDetector, RetryBudget, isRetryableRequest, retry, withTimeout } from '../../src/guard/index.js';

test('idempotency: POST, PATCH and bodies are not retryable unless the route says so', () => {
  assert.equal(isRetryableRequest({ method: 'GET', hasBody: false }), true);
  assert.equal(isRetryableRequest({ method: 'delete', hasBody: false }), true);
  assert.equal(isRetryableRequest({ method: 'POST', hasBody: false }), false);
  assert.equal(isRetryableRequest({ method: 'PATCH', hasBody: false }), false);
  assert.equal(isRetryableRequest({ method: 'PUT', hasBody: true }), false);
  assert.equal(isRetryableRequest({ method: 'POST', hasBody: true, idempotent: true }), true);
  assert.equal(isRetryableRequest({ method: 'GET', hasBody: false, idempotent: false }), false);
});

for (const request of [{ method: 'POST', hasBody: true }, { method: 'PATCH', hasBody: false }, { method: 'PUT', hasBody: true }]) {
  test(`${request.method} (body: ${request.hasBody}) is never retried`, async () => {
    let calls = 0;
    await assert.rejects(retry(async () => { calls++; throw new Error('connection reset'); }, { request, maxRetries: 5, baseDelayMs: 0 }));
    assert.equal(calls, 1);
    let calls2 = 0;
    const status = await retry(async () => { calls2++; return 503; }, { request, maxRetries: 5, baseDelayMs: 0, retryOnResult: (s) => s === 503 });
    assert.equal(status, 503);
    assert.equal(calls2, 1);
  });
}

test('GET is retried up to maxRetries', async () => {
  let calls = 0;
  const r = await retry(async () => (++calls < 3 ? 503 : 200), { request: { method: 'GET', hasBody: false }, maxRetries: 2, baseDelayMs: 0, retryOnResult: (s) => s === 503 });
  assert.equal(r, 200);
  assert.equal(calls, 3);
  calls = 0;
  await assert.rejects(retry(async () => { calls++; throw new Error('x'); }, { request: { method: 'GET', hasBody: false }, baseDelayMs: 0 }));
  assert.equal(calls, 2, 'default: one retry');
});

test('guard refusals (circuit open) are not retried', async () => {
  let calls = 0;
  await assert.rejects(retry(async () => { calls++; throw new GuardError('ERR_GUARD_CIRCUIT_OPEN', 'open'); }, { request: { method: 'GET', hasBody: false }, maxRetries: 3, baseDelayMs: 0 }));
  assert.equal(calls, 1);
});

test('retry budget caps retries in flight (max(20% of active, 3))', async () => {
  const budget = new RetryBudget({ budgetPercent: 20, minRetryConcurrency: 3 });
  const ends = Array.from({ length: 10 }, () => budget.startRequest());
  const slots = [budget.tryRetry(), budget.tryRetry(), budget.tryRetry()];
  assert.ok(slots.every((s) => s !== undefined));
  assert.equal(budget.tryRetry(), undefined, '10 active → cap 3');
  assert.equal(budget.exhausted, 1);
  slots[0]?.();
  assert.ok(budget.tryRetry());
  for (const e of ends) e();
  // With the budget spent, a failing GET is not retried.
  const b2 = new RetryBudget({ minRetryConcurrency: 0 });
  let calls = 0;
  await assert.rejects(retry(async () => { calls++; throw new Error('x'); }, { request: { method: 'GET', hasBody: false }, maxRetries: 3, budget: b2, baseDelayMs: 0 }));
  assert.equal(calls, 1);
  assert.equal(b2.active, 0);
});

test('timeouts: a hop that does not answer in time rejects with 504 and aborts its signal', async () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    let aborted = false;
    const p = withTimeout((signal) => new Promise<never>(() => { signal.addEventListener('abort', () => { aborted = true; }); }), 100);
    mock.timers.tick(100);
    await assert.rejects(p, (e: unknown) => e instanceof GuardError && e.code === 'ERR_GUARD_UPSTREAM_TIMEOUT' && e.status === 504);
    assert.equal(aborted, true);
  } finally {
    mock.timers.reset();
  }
  assert.equal(await withTimeout(async () => 'ok', 1000), 'ok');
});

test('outlier detection ejects after consecutive 5xx, for base × ejections, at most max%', () => {
  let now = 0;
  const hosts = Array.from({ length: 20 }, (_, i) => `10.0.0.${i}`);
  const d = new OutlierDetector(hosts, { clock: () => now });
  for (let i = 0; i < 4; i++) d.record('10.0.0.0', 503);
  d.record('10.0.0.0', 200);
  d.record('10.0.0.0', 503);
  assert.equal(d.isEjected('10.0.0.0'), false, 'a success resets the count');
  for (let i = 0; i < 5; i++) d.record('10.0.0.0', 503);
  assert.equal(d.isEjected('10.0.0.0'), true);
  for (let i = 0; i < 5; i++) d.record('10.0.0.1', 502);
  assert.equal(d.isEjected('10.0.0.1'), true, '2 of 20 = 10%');
  for (let i = 0; i < 5; i++) d.record('10.0.0.2', 502);
  assert.equal(d.isEjected('10.0.0.2'), false, 'never more than 10%');
  assert.equal(d.healthy().length, 18);
  now += 30_000;
  assert.equal(d.isEjected('10.0.0.0'), false);
  for (let i = 0; i < 5; i++) d.record('10.0.0.0', 500);
  now += 30_000;
  assert.equal(d.isEjected('10.0.0.0'), true, 'second ejection lasts 60 s');
  // A single host may always be ejected.
  const one = new OutlierDetector(['only'], { clock: () => now });
  for (let i = 0; i < 5; i++) one.record('only', 500);
  assert.equal(one.isEjected('only'), true);
});

test('outlier detection: time back in service lowers the ejection multiplier, one per interval (Envoy)', () => {
  let now = 0;
  const d = new OutlierDetector(['a', 'b'], { clock: () => now, consecutive5xx: 1, baseEjectionMs: 1_000, maxEjectionMs: 100_000, maxEjectionPercent: 50, intervalMs: 10_000 });
  const ejectFor = (): number => {
    d.record('a', 503);
    assert.equal(d.isEjected('a'), true);
    let ms = 0;
    while (d.isEjected('a')) {
      now += 1_000;
      ms += 1_000;
    }
    return ms;
  };
  assert.equal(ejectFor(), 1_000);
  assert.equal(ejectFor(), 2_000, 'ejected again at once: the multiplier grows');
  assert.equal(ejectFor(), 3_000);
  now += 10_000; // one interval in service: 3 → 2
  assert.equal(ejectFor(), 3_000);
  now += 25_000; // two whole intervals: 3 → 1
  assert.equal(ejectFor(), 2_000);
  now += 60_000; // long healthy: back to the base
  assert.equal(ejectFor(), 1_000);
  assert.throws(() => new OutlierDetector(['x'], { intervalMs: 0 }), RangeError);
});
