import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KeyedTokenBuckets, TokenBucket } from '../../src/guard/token-bucket.js';

test('a bucket allows its burst, then refills at its rate', () => {
  const b = new TokenBucket({ ratePerSecond: 1, burst: 2 }, 0);
  assert.equal(b.take(1, 0).allowed, true);
  assert.equal(b.take(1, 0).allowed, true);
  const refused = b.take(1, 0);
  assert.equal(refused.allowed, false);
  assert.equal(refused.retryAfterMs, 1000);
  assert.equal(b.take(1, 500).allowed, false);
  assert.equal(b.take(1, 1000).allowed, true);
  assert.equal(b.available(100_000), 2, 'never above the burst');
});

test('a take larger than the burst costs the whole burst; bad options are RangeErrors', () => {
  const b = new TokenBucket({ ratePerSecond: 500 }, 0);
  assert.equal(b.burst, 500);
  assert.equal(b.take(1000, 0).allowed, true);
  assert.equal(b.take(1, 0).allowed, false);
  assert.throws(() => new TokenBucket({ ratePerSecond: 0 }), RangeError);
  assert.throws(() => new TokenBucket({ ratePerSecond: 1, burst: 0.5 }), RangeError);
});

test('keyed buckets are independent, pruned when full, and bounded in number', () => {
  const k = new KeyedTokenBuckets({ ratePerSecond: 1, burst: 1, maxKeys: 10 });
  assert.equal(k.take('a', 1, 0).allowed, true);
  assert.equal(k.take('a', 1, 0).allowed, false);
  assert.equal(k.take('b', 1, 0).allowed, true);
  k.prune(5000);
  assert.equal(k.size, 0);
  for (let i = 0; i < 100; i++) k.take(`ip-${i}`, 1, 10_000);
  assert.ok(k.size <= 10);
});
