import { test, mock, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { CircuitBreaker, GuardError, UpstreamBreakers, type CircuitStateName } from '../../src/guard/index.js';

// cockatiel's SamplingBreaker reads Date.now(), so time is faked for both it and us.
beforeEach(() => mock.timers.enable({ apis: ['Date', 'setTimeout'], now: 1_700_000_000_000 }));
afterEach(() => mock.timers.reset());

function refused(b: CircuitBreaker): boolean {
  try {
    b.enter();
    return false;
  } catch (e) {
    assert.ok(e instanceof GuardError);
    assert.equal(e.code, 'ERR_GUARD_CIRCUIT_OPEN');
    assert.equal(e.status, 503);
    return true;
  }
}

/** `n` calls spread over `ms`, every `failEvery`-th one failing. */
function traffic(b: CircuitBreaker, n: number, ms: number, failEvery: number): void {
  for (let i = 0; i < n; i++) {
    const t = b.enter();
    if (i % failEvery === failEvery - 1) t.failure();
    else t.success();
    mock.timers.tick(ms / n);
  }
}

test('low traffic: 1 of 2 failing never trips (minimum volume)', () => {
  const b = new CircuitBreaker();
  traffic(b, 2, 1000, 2);
  assert.equal(b.state, 'closed');
  // Even 50% failures for a whole window stay closed below 5 requests/s (50 in 10 s).
  traffic(b, 40, 10_000, 2);
  assert.equal(b.state, 'closed');
});

test('opens past the minimum volume, answers 503 while open, reports the state change', () => {
  const changes: [string, CircuitStateName][] = [];
  const breakers = new UpstreamBreakers({ onStateChange: (u, s) => changes.push([u, s]) });
  const b = breakers.get('payment:443');
  traffic(b, 100, 5_000, 2); // 20 rps, 50% failing
  // The failure that crosses the threshold opens it.
  for (let i = 0; i < 10 && b.state === 'closed'; i++) b.enter().failure();
  assert.equal(b.state, 'open');
  assert.deepEqual(changes, [['payment:443', 'open']]);
  assert.ok(refused(b));
  assert.equal(breakers.states().get('payment:443'), 'open');
  assert.equal(breakers.get('order:443').state, 'closed', 'per upstream');
});

function openBreaker(options: ConstructorParameters<typeof CircuitBreaker>[0] = {}): CircuitBreaker {
  const b = new CircuitBreaker({ breaker: { kind: 'consecutive', failures: 3 }, openMs: 10_000, ...options });
  for (let i = 0; i < 3; i++) b.enter().failure();
  assert.equal(b.state, 'open');
  return b;
}

test('half-open admits only the bounded probes; the flood fails fast', () => {
  const changes: CircuitStateName[] = [];
  const b = openBreaker({ halfOpenProbes: 3, onStateChange: (s) => changes.push(s) });
  mock.timers.tick(9_999);
  assert.ok(refused(b));
  mock.timers.tick(1);
  assert.equal(b.state, 'half-open');
  const tickets = [];
  let rejected = 0;
  for (let i = 0; i < 1000; i++) {
    try {
      tickets.push(b.enter());
    } catch {
      rejected++;
    }
  }
  assert.equal(tickets.length, 3);
  assert.equal(rejected, 997);
  tickets[0]?.success();
  tickets[1]?.success();
  assert.equal(b.state, 'half-open');
  assert.ok(refused(b), 'settled probes do not free new probe slots');
  tickets[2]?.success();
  assert.equal(b.state, 'closed', 'closes after the successful probes');
  assert.deepEqual(changes, ['open', 'half-open', 'closed']);
  assert.doesNotThrow(() => b.enter().success());
});

test('a failed probe re-opens the circuit for twice as long', () => {
  const b = openBreaker();
  mock.timers.tick(10_000);
  b.enter().failure();
  assert.equal(b.state, 'open');
  mock.timers.tick(10_000);
  assert.ok(refused(b), 'second opening lasts 20 s');
  mock.timers.tick(10_000);
  const probe = b.enter();
  probe.success();
  assert.equal(b.state, 'closed');
});

test('results of calls admitted before the circuit opened are ignored', () => {
  const b = new CircuitBreaker({ breaker: { kind: 'consecutive', failures: 2 }, openMs: 1000 });
  const late = b.enter();
  b.enter().failure();
  b.enter().failure();
  assert.equal(b.state, 'open');
  mock.timers.tick(1000);
  const probe = b.enter();
  late.success(); // from the closed generation: must not close the circuit
  assert.equal(b.state, 'half-open');
  probe.success();
  assert.equal(b.state, 'closed');
});

test('execute counts rejections and failing results', async () => {
  const b = new CircuitBreaker({ breaker: { kind: 'count', threshold: 0.5, size: 4, minimumNumberOfCalls: 4 } });
  await b.execute(async () => 200, (s) => s >= 500);
  await assert.rejects(b.execute(async () => { throw new Error('reset'); }));
  assert.equal(await b.execute(async () => 503, (s) => s >= 500), 503);
  assert.equal(b.state, 'closed', 'below the minimum number of calls');
  await b.execute(async () => 503, (s) => s >= 500);
  assert.equal(b.state, 'open');
  await assert.rejects(b.execute(async () => 200), GuardError);
});

test('options are checked', () => {
  assert.throws(() => new CircuitBreaker({ halfOpenProbes: 0 }), RangeError);
  assert.throws(() => new CircuitBreaker({ halfOpenProbes: 2, successesToClose: 3 }), RangeError);
  assert.throws(() => new CircuitBreaker({ breaker: { kind: 'sampling', threshold: 2, durationMs: 1000, minimumRps: 1 } }), RangeError);
});
