import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { Redis } from 'ioredis';
import { RedisRateLimiter, rateLimitError, type RateLimitFailure } from '../../src/guard/index.js';

// CI sets MESHWARD_TEST_REDIS_URL; locally: redis://127.0.0.1:6379. Never skipped.
const url = process.env['MESHWARD_TEST_REDIS_URL'] ?? '';
if (url === '') throw new Error('MESHWARD_TEST_REDIS_URL is not set: these tests need a Redis (e.g. redis://127.0.0.1:6379)');

const prefix = `meshward-test:${randomBytes(6).toString('hex')}:`;
const clients: Redis[] = [];
const limiters: RedisRateLimiter[] = [];

function client(): Redis {
  const r = new Redis(url, { enableOfflineQueue: true, maxRetriesPerRequest: 1 });
  clients.push(r);
  return r;
}

function limiter(options: Partial<ConstructorParameters<typeof RedisRateLimiter>[0]> & { redis?: Redis }): RedisRateLimiter {
  const l = new RedisRateLimiter({ name: 'test', ratePerSecond: 1, burst: 5, failureMode: 'closed', keyPrefix: prefix, timeoutMs: 1000, ...options });
  limiters.push(l);
  return l;
}

after(async () => {
  const cleanup = client();
  const keys = await cleanup.keys(`${prefix}*`);
  if (keys.length > 0) await cleanup.del(...keys);
  for (const l of limiters) await l.close();
  for (const c of clients) c.disconnect();
});

test('two proxies share one Redis limit: together they allow exactly burst', async () => {
  const proxyA = limiter({ redis: client(), ratePerSecond: 0.001, burst: 6 });
  const proxyB = limiter({ redis: client(), ratePerSecond: 0.001, burst: 6 });
  let allowed = 0;
  for (let i = 0; i < 20; i++) if ((await (i % 2 === 0 ? proxyA : proxyB).consume('spiffe://td/caller|POST /pay')).allowed) allowed++;
  assert.equal(allowed, 6);
  assert.equal(proxyA.stats.failures + proxyB.stats.failures, 0);
});

test('Redis bucket refills with time (injected clock passed to the script)', async () => {
  let now = 5_000_000;
  const l = limiter({ redis: client(), ratePerSecond: 2, burst: 2, clock: () => now });
  assert.equal((await l.consume('k')).allowed, true);
  assert.equal((await l.consume('k')).allowed, true);
  const refused = await l.consume('k');
  assert.equal(refused.allowed, false);
  assert.equal(refused.retryAfterSeconds, 1);
  assert.equal(rateLimitError(refused).status, 429);
  now += 500;
  const again = await l.consume('k');
  assert.equal(again.allowed, true);
  assert.equal(again.remaining, 0);
  now += 60_000;
  assert.equal((await l.consume('k')).remaining, 1);
});

test('per-caller isolation in Redis', async () => {
  const l = limiter({ redis: client(), ratePerSecond: 0.001, burst: 1 });
  assert.equal((await l.consume('a')).allowed, true);
  assert.equal((await l.consume('a')).allowed, false);
  assert.equal((await l.consume('b')).allowed, true);
});

test('Redis down, fail-open: allows, counts, reports, within the timeout', async () => {
  const events: RateLimitFailure[] = [];
  const l = limiter({ url: 'redis://127.0.0.1:1', failureMode: 'open', timeoutMs: 50, onFailure: (e) => events.push(e) });
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    const r = await l.consume('k');
    assert.ok(performance.now() - t0 < 200, 'answers within the timeout (plus scheduling slack)');
    assert.equal(r.allowed, true);
    assert.equal(r.degraded, true);
  }
  assert.equal(l.stats.failures, 3);
  assert.equal(l.stats.failOpenAllowed, 3);
  assert.equal(l.stats.failClosedDenied, 0);
  assert.equal(events.length, 3);
  assert.equal(events[0]?.failureMode, 'open');
});

test('Redis down, fail-closed: denies with 503, counts, within the timeout', async () => {
  const l = limiter({ url: 'redis://127.0.0.1:1', failureMode: 'closed', timeoutMs: 50 });
  const t0 = performance.now();
  const r = await l.consume('k');
  assert.ok(performance.now() - t0 < 200);
  assert.equal(r.allowed, false);
  assert.equal(r.degraded, true);
  assert.equal(r.retryAfterSeconds, 1);
  const err = rateLimitError(r);
  assert.equal(err.code, 'ERR_GUARD_RATE_LIMIT_UNAVAILABLE');
  assert.equal(err.status, 503);
  assert.equal(l.stats.failClosedDenied, 1);
});

test('a Redis that accepts but never answers hits the 50 ms timeout; the failure mode decides', async () => {
  const sockets = new Set<net.Socket>();
  const blackHole = net.createServer((s) => {
    sockets.add(s);
    s.on('data', () => undefined); // read, never answer
  });
  await new Promise<void>((r) => blackHole.listen(0, '127.0.0.1', r));
  const port = (blackHole.address() as net.AddressInfo).port;
  const silent = new Redis({ host: '127.0.0.1', port, enableReadyCheck: false, enableOfflineQueue: true, maxRetriesPerRequest: 0 });
  silent.on('error', () => undefined);
  clients.push(silent);
  await new Promise((r) => silent.once('connect', r));
  const l = limiter({ redis: silent, failureMode: 'open', timeoutMs: 50 });
  const t0 = performance.now();
  const r = await l.consume('slow');
  const ms = performance.now() - t0;
  assert.equal(r.allowed, true);
  assert.equal(r.degraded, true);
  assert.equal(l.stats.timeouts, 1);
  assert.ok(ms >= 45 && ms < 200, `took ${ms} ms`);
  silent.disconnect();
  for (const s of sockets) s.destroy();
  blackHole.close();
});

test('the failure mode is required and checked', () => {
  assert.throws(() => new RedisRateLimiter({ name: 'x', ratePerSecond: 1, failureMode: 'maybe' as 'open', url }), TypeError);
});
