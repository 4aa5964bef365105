/** Query strings: only the named parameters, each at most once unless repeatable. */
import type { FastifyRequest } from 'fastify';
import { AdminError, invalid } from './admin-error.js';

export interface Query {
  one(name: string): string | undefined;
  all(name: string): string[];
}

export function query(request: FastifyRequest, allowed: readonly string[], repeatable: readonly string[] = ['selector']): Query {
  const raw = (request.query ?? {}) as Record<string, string | string[] | undefined>;
  for (const key of Object.keys(raw)) {
    if (!allowed.includes(key)) {
      throw new AdminError('ERR_ADMIN_UNKNOWN_FIELD', `${key}: unknown query parameter (allowed: ${allowed.join(', ') || 'none'})`, key);
    }
  }
  const all = (name: string): string[] => {
    const v = raw[name];
    return v === undefined ? [] : Array.isArray(v) ? v : [v];
  };
  return {
    one(name) {
      const values = all(name);
      if (values.length > 1 && !repeatable.includes(name)) throw invalid(name, 'given more than once');
      return values[0];
    },
    all,
  };
}
