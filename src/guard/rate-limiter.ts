/**
 * The rate-limiter contract every limit implements: a token bucket of
 * `burst` tokens refilled at `ratePerSecond`, one bucket per key (a caller's
 * SPIFFE ID and a route, built with `rateLimitKey`). Local buckets live in the
 * proxy's memory (per instance: N proxies → N × limit); the Redis limiter
 * shares one bucket across every proxy.
 */
import { GuardError } from './guard-error.js';

export interface RateLimitResult {
  readonly allowed: boolean;
  /** Whole tokens left after this call. */
  readonly remaining: number;
  /** The bucket size (`burst`): the most requests allowed at once. */
  readonly limit: number;
  /** Seconds until the bucket is full again (the IETF draft's `ratelimit-reset`). */
  readonly resetSeconds: number;
  /** Seconds to wait before this request would be allowed; 0 when allowed. */
  readonly retryAfterSeconds: number;
  /** True when the store could not be asked and the limit's `failureMode` decided. */
  readonly degraded?: boolean;
}

export interface RateLimiter {
  /** The bucket size, for headers. */
  readonly limit: number;
  /** Tokens a second. */
  readonly ratePerSecond: number;
  /** Takes `cost` tokens (default 1) from `key`'s bucket when it has them; never throws. */
  consume(key: string, cost?: number): RateLimitResult | Promise<RateLimitResult>;
}

export interface RateLimitOptions {
  /** Tokens added per second; > 0. */
  readonly ratePerSecond: number;
  /** Bucket size; default `ratePerSecond` (at least 1). */
  readonly burst?: number;
}

/** Validates rate and burst (programmer errors are RangeErrors, as in cockatiel). */
export function checkRateLimitOptions(options: RateLimitOptions): { rate: number; burst: number } {
  const rate = options.ratePerSecond;
  if (typeof rate !== 'number' || !Number.isFinite(rate) || rate <= 0) throw new RangeError('ratePerSecond must be a positive number');
  const burst = options.burst ?? Math.max(1, rate);
  if (typeof burst !== 'number' || !Number.isFinite(burst) || burst < 1) throw new RangeError('burst must be a number of at least 1');
  return { rate, burst };
}

/** The bucket key for a caller on a route. NUL cannot occur in a SPIFFE ID or a route name. */
export function rateLimitKey(caller: string, route: string): string {
  return `${caller}\u0000${route}`;
}

/** The error the proxy turns into its response: 429 when limited, 503 when the store failed closed. */
export function rateLimitError(result: RateLimitResult): GuardError {
  if (result.degraded === true) {
    return new GuardError('ERR_GUARD_RATE_LIMIT_UNAVAILABLE', 'rate-limit store unavailable and the limit fails closed', { retryAfterSeconds: result.retryAfterSeconds });
  }
  return new GuardError('ERR_GUARD_RATE_LIMITED', 'rate limit exceeded', { retryAfterSeconds: result.retryAfterSeconds });
}
