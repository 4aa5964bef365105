import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GuardError, Lockout, type LockoutEvent } from '../../src/guard/index.js';

function setup(options: Partial<ConstructorParameters<typeof Lockout>[0]> = {}) {
  let now = 1_000_000;
  const events: LockoutEvent[] = [];
  const lockout = new Lockout({ maxFailures: 3, windowMs: 60_000, cooldownMs: 300_000, clock: () => now, onLockout: (e) => events.push(e), ...options });
  return { lockout, events, advance: (ms: number) => void (now += ms) };
}

test('locks a source out after N bad certificates, logs and counts it', () => {
  const { lockout, events, advance } = setup();
  assert.equal(lockout.recordFailure('10.0.0.1', 'bad-certificate').locked, false);
  advance(1000);
  assert.equal(lockout.recordFailure('10.0.0.1', 'bad-certificate').locked, false);
  assert.equal(lockout.check('10.0.0.1').locked, false);
  const third = lockout.recordFailure('10.0.0.1', 'replayed-token');
  assert.equal(third.locked, true);
  assert.equal(third.retryAfterSeconds, 300);
  assert.equal(events.length, 1);
  assert.deepEqual(events[0], { source: '10.0.0.1', reason: 'replayed-token', failures: 3, until: 1_001_000 + 300_000 });
  assert.equal(lockout.stats.lockouts, 1);
  assert.equal(lockout.failuresByReason.get('bad-certificate'), 2);
  let thrown: unknown;
  try {
    lockout.assertNotLocked('10.0.0.1');
  } catch (e) {
    thrown = e;
  }
  assert.ok(thrown instanceof GuardError);
  assert.equal(thrown.code, 'ERR_GUARD_LOCKED_OUT');
  assert.equal(thrown.status, 429);
  assert.equal(thrown.retryAfterSeconds, 300);
  assert.equal(lockout.check('10.0.0.2').locked, false, 'other sources unaffected');
});

test('cool-down expiry lifts the lockout, and counting starts afresh', () => {
  const { lockout, advance } = setup();
  for (let i = 0; i < 3; i++) lockout.recordFailure('s', 'bad-token');
  advance(299_999);
  assert.equal(lockout.check('s').locked, true);
  assert.equal(lockout.check('s').retryAfterSeconds, 1);
  advance(1);
  assert.equal(lockout.check('s').locked, false);
  assert.equal(lockout.recordFailure('s', 'bad-token').locked, false, 'one failure after the cool-down is not a lockout');
});

test('window expiry: failures spread wider than the window never lock out', () => {
  const { lockout, advance } = setup();
  for (let i = 0; i < 10; i++) {
    assert.equal(lockout.recordFailure('s', 'bad-certificate').locked, false);
    advance(30_001); // at most 2 failures inside any 60 s window
  }
  assert.equal(lockout.stats.lockouts, 0);
});

test('bounded memory: at most maxSources tracked, least recently seen dropped', () => {
  const { lockout } = setup({ maxSources: 100 });
  for (let i = 0; i < 10_000; i++) lockout.recordFailure(`10.1.${i >> 8}.${i & 255}`, 'bad-certificate');
  assert.equal(lockout.size, 100);
  assert.equal(lockout.stats.evicted, 9_900);
});

test('hooks that throw never break the caller', () => {
  const lockout = new Lockout({ maxFailures: 1, onLockout: () => { throw new Error('boom'); }, onFailure: () => { throw new Error('boom'); } });
  assert.equal(lockout.recordFailure('s', 'bad-token').locked, true);
});
