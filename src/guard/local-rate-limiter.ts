/**
 * In-memory token buckets, one per key, with a bounded key count. Local to
 * one proxy process: N proxies give N × the limit (SECURITY-CASES 77); use
 * `RedisRateLimiter` for a limit shared by every replica.
 */
import { KeyedTokenBuckets } from './token-bucket.js';
import { checkRateLimitOptions, type RateLimiter, type RateLimitOptions, type RateLimitResult } from './rate-limiter.js';

export interface LocalRateLimiterOptions extends RateLimitOptions {
  /** Most keys tracked (full buckets are forgotten first). Default 100,000. */
  readonly maxKeys?: number;
  /** Milliseconds clock; default `Date.now`. */
  readonly clock?: () => number;
}

export class LocalRateLimiter implements RateLimiter {
  readonly limit: number;
  readonly ratePerSecond: number;
  readonly #buckets: KeyedTokenBuckets;
  readonly #clock: () => number;

  constructor(options: LocalRateLimiterOptions) {
    const { rate, burst } = checkRateLimitOptions(options);
    this.limit = burst;
    this.ratePerSecond = rate;
    this.#buckets = new KeyedTokenBuckets({ ratePerSecond: rate, burst, ...(options.maxKeys === undefined ? {} : { maxKeys: options.maxKeys }) });
    this.#clock = options.clock ?? Date.now;
  }

  get size(): number {
    return this.#buckets.size;
  }

  consume(key: string, cost = 1): RateLimitResult {
    const r = this.#buckets.consume(key, cost, this.#clock());
    return {
      allowed: r.allowed,
      remaining: Math.floor(r.remaining),
      limit: this.limit,
      resetSeconds: Math.ceil(r.fullInMs / 1000),
      retryAfterSeconds: Math.ceil(r.retryAfterMs / 1000),
    };
  }

  /** Forgets full buckets; the proxy may call this on a timer. */
  prune(): void {
    this.#buckets.prune(this.#clock());
  }
}
