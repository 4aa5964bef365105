/** The admin audit trail, oldest first, paged by record ID. */
import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../server-context.js';
import * as f from './fields.js';
import { invalid } from './admin-error.js';
import { query } from './query.js';
import { addRoute } from './route.js';

export const DEFAULT_AUDIT_LIMIT = 100;
export const MAX_AUDIT_LIMIT = 1000;

export function auditRoutes(app: FastifyInstance, ctx: ServerContext): void {
  addRoute(app, ctx, {
    method: 'GET',
    url: '/v1/audit',
    action: 'audit.list',
    handler: async (request, note) => {
      const q = query(request, ['sinceId', 'limit']);
      const sinceId = numberParam(q.one('sinceId'), 'sinceId', 0, Number.MAX_SAFE_INTEGER) ?? 0;
      const limit = numberParam(q.one('limit'), 'limit', 1, MAX_AUDIT_LIMIT) ?? DEFAULT_AUDIT_LIMIT;
      const records = await ctx.store.listAudit({ sinceId, limit });
      note.detail = { sinceId, limit, count: records.length };
      return { body: { records } };
    },
  });
}

function numberParam(text: string | undefined, field: string, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[0-9]{1,16}$/.test(text)) throw invalid(field, 'must be a whole number');
  return f.integer(Number(text), field, min, max);
}
