/**
 * A token bucket shared by every proxy replica, kept in Redis
 * (`MESHWARD_REDIS_URL`) by one atomic Lua script (rate + burst: a true token
 * bucket, which rate-limiter-flexible's fixed-window `RateLimiterRedis` is not).
 *
 * When Redis is down or slower than `timeoutMs` (default 50 ms) the limit's
 * explicit `failureMode` decides: 'open' allows (Envoy's default,
 * `failure_mode_deny: false`), 'closed' denies (the proxy answers 503). Every
 * failure is counted in `stats` and reported to `onFailure` for metrics.
 */
import type { Redis } from 'ioredis';
import { lazyRequire } from '../lazy-require.js';

const ioredis = lazyRequire<typeof import('ioredis')>('ioredis');
import { TOKEN_BUCKET_LUA } from './redis-token-bucket.lua.js';
import { checkRateLimitOptions, type RateLimiter, type RateLimitOptions, type RateLimitResult } from './rate-limiter.js';

export type FailureMode = 'open' | 'closed';

export interface RateLimitFailure {
  readonly limit: string;
  readonly key: string;
  readonly failureMode: FailureMode;
  readonly reason: 'timeout' | 'error';
  readonly error?: unknown;
}

export interface RedisRateLimiterOptions extends RateLimitOptions {
  /** Names the limit (part of the Redis key and of failure events). */
  readonly name: string;
  /** What to do when Redis cannot answer in time. No default: the choice is explicit. */
  readonly failureMode: FailureMode;
  /** A client to share (not closed by `close()`); otherwise one is made from `url`. */
  readonly redis?: Redis;
  /** Default `process.env.MESHWARD_REDIS_URL`. */
  readonly url?: string;
  /** Default 'meshward:rl:'. */
  readonly keyPrefix?: string;
  /** Milliseconds to wait for Redis before `failureMode` decides; default 50. */
  readonly timeoutMs?: number;
  readonly onFailure?: (event: RateLimitFailure) => void;
  /** Milliseconds clock passed to the script; default: Redis's own TIME (one clock for all proxies). */
  readonly clock?: () => number;
}

export interface RedisRateLimiterStats {
  calls: number;
  failures: number;
  timeouts: number;
  failOpenAllowed: number;
  failClosedDenied: number;
}

interface TokenBucketCommand {
  meshwardTokenBucket(key: string, rate: string, burst: string, cost: string, now: string): Promise<[number, string]>;
}

/** A Redis client set up for limits: no offline queue (a down Redis fails at once), short connect timeout. */
export function createLimiterRedis(url: string): Redis {
  const redis = new (ioredis().Redis)(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 1000,
    retryStrategy: (times) => Math.min(times * 100, 2000),
    lazyConnect: false,
  });
  redis.on('error', () => {
    /* counted per call through failureMode; connection errors repeat while Redis is down */
  });
  return redis;
}

export class RedisRateLimiter implements RateLimiter {
  readonly limit: number;
  readonly ratePerSecond: number;
  readonly name: string;
  readonly failureMode: FailureMode;
  readonly stats: RedisRateLimiterStats = { calls: 0, failures: 0, timeouts: 0, failOpenAllowed: 0, failClosedDenied: 0 };
  readonly #redis: Redis & TokenBucketCommand;
  readonly #owned: boolean;
  readonly #prefix: string;
  readonly #timeoutMs: number;
  readonly #onFailure: ((event: RateLimitFailure) => void) | undefined;
  readonly #clock: (() => number) | undefined;
  readonly #rate: string;
  readonly #burst: string;

  constructor(options: RedisRateLimiterOptions) {
    const { rate, burst } = checkRateLimitOptions(options);
    if (options.failureMode !== 'open' && options.failureMode !== 'closed') throw new TypeError("failureMode must be 'open' or 'closed'");
    if (typeof options.name !== 'string' || options.name === '') throw new TypeError('name must be a non-empty string');
    this.limit = burst;
    this.ratePerSecond = rate;
    this.name = options.name;
    this.failureMode = options.failureMode;
    let redis = options.redis;
    this.#owned = redis === undefined;
    if (redis === undefined) {
      const url = options.url ?? process.env['MESHWARD_REDIS_URL'];
      if (url === undefined || url === '') throw new TypeError('a Redis client or url (MESHWARD_REDIS_URL) is required');
      redis = createLimiterRedis(url);
    }
    if (!('meshwardTokenBucket' in redis)) redis.defineCommand('meshwardTokenBucket', { numberOfKeys: 1, lua: TOKEN_BUCKET_LUA });
    this.#redis = redis as Redis & TokenBucketCommand;
    this.#prefix = `${options.keyPrefix ?? 'meshward:rl:'}${options.name}:`;
    const timeoutMs = options.timeoutMs ?? 50;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new RangeError('timeoutMs must be a positive number');
    this.#timeoutMs = timeoutMs;
    this.#onFailure = options.onFailure;
    this.#clock = options.clock;
    this.#rate = String(rate);
    this.#burst = String(burst);
  }

  async consume(key: string, cost = 1): Promise<RateLimitResult> {
    this.stats.calls++;
    const wanted = Math.min(Math.max(cost, 0), this.limit);
    let timer: NodeJS.Timeout | undefined;
    try {
      const call = this.#redis.meshwardTokenBucket(this.#prefix + key, this.#rate, this.#burst, String(wanted), this.#clock === undefined ? '' : String(Math.floor(this.#clock())));
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new TimeoutSignal()), this.#timeoutMs);
      });
      call.catch(() => undefined); // a late failure after the timeout must not be unhandled
      const [allowed, tokensText] = await Promise.race([call, timeout]);
      const tokens = Number(tokensText);
      return {
        allowed: allowed === 1,
        remaining: Math.floor(tokens),
        limit: this.limit,
        resetSeconds: Math.ceil((this.limit - tokens) / this.ratePerSecond),
        retryAfterSeconds: allowed === 1 ? 0 : Math.ceil((wanted - tokens) / this.ratePerSecond),
      };
    } catch (error) {
      return this.#failed(key, error);
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
  }

  /** Resolves once the client is connected (useful at start; consume never waits for it). */
  async ready(): Promise<void> {
    if (this.#redis.status === 'ready') return;
    await new Promise<void>((resolve, reject) => {
      this.#redis.once('ready', resolve);
      this.#redis.once('end', () => reject(new Error('redis connection ended')));
    });
  }

  /** Closes the client when this limiter created it. */
  async close(): Promise<void> {
    if (this.#owned) this.#redis.disconnect();
  }

  #failed(key: string, error: unknown): RateLimitResult {
    const timedOut = error instanceof TimeoutSignal;
    this.stats.failures++;
    if (timedOut) this.stats.timeouts++;
    const open = this.failureMode === 'open';
    if (open) this.stats.failOpenAllowed++;
    else this.stats.failClosedDenied++;
    try {
      this.#onFailure?.({ limit: this.name, key, failureMode: this.failureMode, reason: timedOut ? 'timeout' : 'error', ...(timedOut ? {} : { error }) });
    } catch {
      /* a metrics hook must not break the request path */
    }
    return { allowed: open, remaining: open ? this.limit : 0, limit: this.limit, resetSeconds: 1, retryAfterSeconds: open ? 0 : 1, degraded: true };
  }
}

class TimeoutSignal extends Error {}
