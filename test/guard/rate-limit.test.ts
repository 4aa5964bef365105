import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalRateLimiter, rateLimitError, rateLimitHeaders, rateLimitKey } from '../../src/guard/index.js';
import { KeyedTokenBuckets } from '../../src/guard/token-bucket.js';

function clock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

test('answers 429 past the burst, then recovers as tokens refill', () => {
  const c = clock();
  const limiter = new LocalRateLimiter({ ratePerSecond: 2, burst: 3, clock: c.now });
  const key = rateLimitKey('spiffe://td/ns/a/sa/x', 'POST /payment');
  for (let i = 0; i < 3; i++) assert.equal(limiter.consume(key).allowed, true);
  const refused = limiter.consume(key);
  assert.equal(refused.allowed, false);
  assert.equal(refused.remaining, 0);
  assert.equal(refused.retryAfterSeconds, 1);
  const err = rateLimitError(refused);
  assert.equal(err.code, 'ERR_GUARD_RATE_LIMITED');
  assert.equal(err.status, 429);
  c.advance(499);
  assert.equal(limiter.consume(key).allowed, false);
  c.advance(1);
  assert.equal(limiter.consume(key).allowed, true, 'one token after 500 ms at 2/s');
  assert.equal(limiter.consume(key).allowed, false);
  c.advance(10_000);
  const full = limiter.consume(key);
  assert.equal(full.allowed, true);
  assert.equal(full.remaining, 2, 'refill stops at burst');
});

test('burst: a full bucket allows exactly `burst` requests at once', () => {
  const c = clock();
  const limiter = new LocalRateLimiter({ ratePerSecond: 1, burst: 10, clock: c.now });
  let allowed = 0;
  for (let i = 0; i < 25; i++) if (limiter.consume('k').allowed) allowed++;
  assert.equal(allowed, 10);
  const r = limiter.consume('k', 1);
  assert.equal(r.resetSeconds, 10, 'empty bucket is full again in burst/rate seconds');
});

test('per-caller isolation: one caller exhausting its bucket leaves others untouched', () => {
  const c = clock();
  const limiter = new LocalRateLimiter({ ratePerSecond: 1, burst: 2, clock: c.now });
  const a = rateLimitKey('spiffe://td/a', 'r');
  const b = rateLimitKey('spiffe://td/b', 'r');
  const aOther = rateLimitKey('spiffe://td/a', 'other');
  limiter.consume(a);
  limiter.consume(a);
  assert.equal(limiter.consume(a).allowed, false);
  assert.equal(limiter.consume(b).allowed, true);
  assert.equal(limiter.consume(aOther).allowed, true, 'routes are separate buckets');
});

test('cost counts several tokens', () => {
  const limiter = new LocalRateLimiter({ ratePerSecond: 1, burst: 5, clock: () => 0 });
  assert.equal(limiter.consume('k', 4).remaining, 1);
  assert.equal(limiter.consume('k', 2).allowed, false);
});

test('bounded keys: a flood of callers never holds more than maxKeys buckets', () => {
  const limiter = new LocalRateLimiter({ ratePerSecond: 1, burst: 1, maxKeys: 100, clock: () => 0 });
  for (let i = 0; i < 10_000; i++) limiter.consume(`caller-${i}`);
  assert.ok(limiter.size <= 100);
});

test('headers: IETF draft names, x-ratelimit-*, and retry-after only when refused', () => {
  const limiter = new LocalRateLimiter({ ratePerSecond: 2, burst: 2, clock: () => 0 });
  const ok = rateLimitHeaders(limiter.consume('k'), { ratePerSecond: 2 });
  assert.deepEqual(ok, {
    'ratelimit-limit': '2',
    'ratelimit-remaining': '1',
    'ratelimit-reset': '1',
    'ratelimit-policy': '2;w=1',
    'x-ratelimit-limit': '2',
    'x-ratelimit-remaining': '1',
    'x-ratelimit-reset': '1',
  });
  limiter.consume('k');
  const refused = rateLimitHeaders(limiter.consume('k'), { legacy: false });
  assert.equal(refused['retry-after'], '1');
  assert.equal(refused['ratelimit-remaining'], '0');
  assert.equal(refused['x-ratelimit-limit'], undefined);
});

test('local limits are per instance: two proxies with local buckets allow 2 × limit (documented)', () => {
  const a = new LocalRateLimiter({ ratePerSecond: 1, burst: 5, clock: () => 0 });
  const b = new LocalRateLimiter({ ratePerSecond: 1, burst: 5, clock: () => 0 });
  let allowed = 0;
  for (let i = 0; i < 20; i++) if ((i % 2 === 0 ? a : b).consume('k').allowed) allowed++;
  assert.equal(allowed, 10);
});

test('options are checked', () => {
  assert.throws(() => new LocalRateLimiter({ ratePerSecond: 0 }), RangeError);
  assert.throws(() => new LocalRateLimiter({ ratePerSecond: 1, burst: 0.5 }), RangeError);
});

test('KeyedTokenBuckets keeps its take() API and gains consume()', () => {
  const buckets = new KeyedTokenBuckets({ ratePerSecond: 1, burst: 2 });
  assert.deepEqual(buckets.take('k', 1, 0), { allowed: true, retryAfterMs: 0 });
  const r = buckets.consume('k', 1, 0);
  assert.equal(r.allowed, true);
  assert.equal(r.remaining, 0);
  assert.equal(r.fullInMs, 2000);
});
