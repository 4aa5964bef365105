/**
 * Rate-limit response headers: `ratelimit-limit`, `ratelimit-remaining`,
 * `ratelimit-reset` and `ratelimit-policy` (draft-ietf-httpapi-ratelimit-headers,
 * the widely deployed draft-07 form), the older `x-ratelimit-*` trio, and
 * `retry-after` when refused.
 */
import type { RateLimitResult } from './rate-limiter.js';

export interface RateLimitHeaderOptions {
  /** Tokens a second, to state the window in `ratelimit-policy` (`burst;w=seconds`). */
  readonly ratePerSecond?: number;
  /** Add the `x-ratelimit-*` trio too; default true. */
  readonly legacy?: boolean;
}

export function rateLimitHeaders(result: RateLimitResult, options: RateLimitHeaderOptions = {}): Record<string, string> {
  const limit = String(result.limit);
  const remaining = String(Math.max(0, result.remaining));
  const reset = String(Math.max(0, result.resetSeconds));
  const headers: Record<string, string> = {
    'ratelimit-limit': limit,
    'ratelimit-remaining': remaining,
    'ratelimit-reset': reset,
  };
  if (options.ratePerSecond !== undefined && options.ratePerSecond > 0) {
    headers['ratelimit-policy'] = `${limit};w=${Math.max(1, Math.ceil(result.limit / options.ratePerSecond))}`;
  }
  if (options.legacy !== false) {
    headers['x-ratelimit-limit'] = limit;
    headers['x-ratelimit-remaining'] = remaining;
    headers['x-ratelimit-reset'] = reset;
  }
  if (!result.allowed) headers['retry-after'] = String(Math.max(1, result.retryAfterSeconds));
  return headers;
}
