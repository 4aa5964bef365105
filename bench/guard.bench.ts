/**
 * Guard costs on the request path: ns per local `consume()`, per bulkhead
 * acquire/release, per schema validation of a small JSON body, per request
 * hygiene check; and Redis consume latency p50/p99 in µs (MESHWARD_REDIS_URL,
 * default redis://127.0.0.1:6379). Prints one JSON line.
 */
import { Bulkhead, LocalRateLimiter, RedisRateLimiter, RouteValidator, checkRequestHygiene, type Release } from '../src/guard/index.js';

function nsPerOp(iterations: number, fn: (i: number) => void): number {
  for (let i = 0; i < Math.min(iterations, 50_000); i++) fn(i);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) fn(i);
  return Math.round(Number(process.hrtime.bigint() - t0) / iterations);
}

const keys = Array.from({ length: 1024 }, (_, i) => `spiffe://td/ns/n/sa/svc-${i}\u0000POST /pay`);
const local = new LocalRateLimiter({ ratePerSecond: 1e9, burst: 1e9 });
const localNs = nsPerOp(1_000_000, (i) => void local.consume(keys[i & 1023] as string));

const bulkhead = new Bulkhead({ maxConcurrent: 100, maxQueue: 10 });
const bulkheadNs = nsPerOp(1_000_000, () => (bulkhead.acquire() as Release)());

const validator = new RouteValidator({
  schema: { type: 'object', properties: { amount: { type: 'integer' }, currency: { type: 'string', enum: ['EUR', 'USD'] }, to: { type: 'string', maxLength: 64 } }, required: ['amount', 'currency'], additionalProperties: false },
});
const body = Buffer.from('{"amount":42,"currency":"EUR","to":"spiffe://td/ns/pay/sa/payment"}');
const media = validator.checkMediaType('application/json; charset=utf-8');
const validateNs = nsPerOp(300_000, () => void validator.validateBody(body, media));
const parsed = JSON.parse(body.toString()) as unknown;
const schemaOnlyNs = nsPerOp(1_000_000, () => validator.validateJson(parsed));

const req = { method: 'GET', url: '/api/v1/orders/123?page=2', httpVersion: '1.1', rawHeaders: ['Host', 'order.local', 'User-Agent', 'curl/8', 'Accept', '*/*', 'X-Request-Id', 'abc-123'] };
const hygieneNs = nsPerOp(1_000_000, () => void checkRequestHygiene(req));

const url = process.env['MESHWARD_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const redis = new RedisRateLimiter({ name: `bench-${process.pid}`, ratePerSecond: 1e6, burst: 1e6, failureMode: 'open', url, timeoutMs: 1000 });
let redisP50: number | null = null;
let redisP99: number | null = null;
let redisFailures = 0;
try {
  await redis.ready();
  for (let i = 0; i < 500; i++) await redis.consume(keys[i & 1023] as string);
  const samples: number[] = [];
  for (let i = 0; i < 5000; i++) {
    const t0 = process.hrtime.bigint();
    await redis.consume(keys[i & 1023] as string);
    samples.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  samples.sort((a, b) => a - b);
  redisP50 = Math.round(samples[Math.floor(samples.length * 0.5)] as number);
  redisP99 = Math.round(samples[Math.floor(samples.length * 0.99)] as number);
  redisFailures = redis.stats.failures;
} catch {
  redisFailures = -1;
} finally {
  await redis.close();
}

console.log(
  JSON.stringify({
    bench: 'guard',
    node: process.version,
    local_consume_ns: localNs,
    bulkhead_acquire_release_ns: bulkheadNs,
    json_parse_and_validate_small_body_ns: validateNs,
    schema_validate_only_ns: schemaOnlyNs,
    request_hygiene_check_ns: hygieneNs,
    redis_consume_p50_us: redisP50,
    redis_consume_p99_us: redisP99,
    redis_failures: redisFailures,
  }),
);
