/**
 * Routes: the per-route guards (rate limit, bulkhead, input validation,
 * must-audit), built once at start. A request takes the first route whose
 * prefix matches its NORMALIZED path (and whose methods include its method);
 * the last route is the catch-all `/`. Limits are keyed by caller identity
 * within the route.
 */
import type { Redis } from 'ioredis';
import { KeyedBulkheads, LocalRateLimiter, RedisRateLimiter, RouteValidator, type RateLimiter } from '../guard/index.js';
import type { ProxyMetrics } from '../telemetry/index.js';
import type { RouteConfig } from './config.js';
import { configError } from './proxy-error.js';

export interface Route {
  readonly name: string;
  readonly pathPrefix: string;
  readonly methods: ReadonlySet<string> | null;
  readonly limiter: RateLimiter | null;
  readonly ratePerSecond: number;
  readonly bulkheads: KeyedBulkheads | null;
  readonly validator: RouteValidator | null;
  readonly mustAudit: boolean;
}

export function buildRoutes(configs: readonly RouteConfig[], deps: { redis: () => Redis; metrics: ProxyMetrics; maxBodyBytes: number }): Route[] {
  return configs.map((c, i) => {
    let limiter: RateLimiter | null = null;
    if (c.rateLimit) {
      const rl = c.rateLimit;
      const opts = { ratePerSecond: rl.ratePerSecond, ...(rl.burst === undefined ? {} : { burst: rl.burst }) };
      limiter =
        rl.scope === 'redis'
          ? new RedisRateLimiter({
              ...opts,
              name: c.name,
              failureMode: rl.failureMode,
              redis: deps.redis(),
              keyPrefix: 'meshward:proxy:rl:',
              onFailure: (e) => deps.metrics.rateLimitBackendError(e.limit, e.failureMode === 'open' ? 'fail-open' : 'fail-closed'),
            })
          : new LocalRateLimiter(opts);
    }
    let validator: RouteValidator | null = null;
    if (c.schema !== undefined || c.contentTypes !== undefined || c.maxBodyBytes !== undefined) {
      try {
        validator = new RouteValidator({
          ...(c.contentTypes ? { contentTypes: c.contentTypes } : {}),
          ...(c.schema ? { schema: c.schema } : {}),
          maxBodyBytes: c.maxBodyBytes ?? deps.maxBodyBytes,
        });
      } catch (err) {
        throw configError(`routes[${i}].schema`, (err as Error).message);
      }
    }
    return {
      name: c.name,
      pathPrefix: c.pathPrefix,
      methods: c.methods ? new Set(c.methods) : null,
      limiter,
      ratePerSecond: c.rateLimit?.ratePerSecond ?? 0,
      bulkheads: c.bulkhead
        ? new KeyedBulkheads({ ...c.bulkhead, onReject: (key) => deps.metrics.bulkheadRejection(key) })
        : null,
      validator,
      mustAudit: c.mustAudit,
    };
  });
}

/** First route whose prefix and methods match; routes always end with the catch-all. */
export function matchRoute(routes: readonly Route[], path: string, method: string): Route {
  for (let i = 0; i < routes.length; i++) {
    const r = routes[i]!;
    if ((r.pathPrefix === '/' || path.startsWith(r.pathPrefix)) && (r.methods === null || r.methods.has(method))) return r;
  }
  return routes[routes.length - 1]!;
}
