/** Registration entries: batch create, list with filters, show, update, delete. */
import type { FastifyInstance } from 'fastify';
import { StoreError } from '../../store/store-error.js';
import type { EntryFilter, NewEntry, RegistrationEntry } from '../../store/types.js';
import type { ServerContext } from '../server-context.js';
import { AdminError, invalid } from './admin-error.js';
import { errorResponse } from './error-response.js';
import * as f from './fields.js';
import { parseEntryUpdate, parseNewEntry } from './entry-input.js';
import { query } from './query.js';
import { addRoute } from './route.js';
import { epochSeconds } from '../../duration.js';

export const MAX_BATCH_ENTRIES = 10_000;
export const MAX_BATCH_BYTES = 16 * 1024 * 1024;
/** Entries written per transaction when nothing conflicts; on a conflict, that chunk is redone one entry per transaction. */
const CHUNK = 200;

type BatchResult = { status: 'ok'; entry: RegistrationEntry } | { status: 'error'; error: { code: string; message: string; field?: string } };

export function entryRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const td = ctx.trustDomain;
  const nowSeconds = (): number => epochSeconds(ctx.now());

  addRoute(app, ctx, {
    method: 'POST',
    url: '/v1/entries',
    action: 'entry.create',
    bodyLimit: MAX_BATCH_BYTES,
    handler: async (request, note) => {
      const body = f.object(request.body, '', ['entries']);
      const list = f.array(f.required(body.entries, 'entries'), 'entries', MAX_BATCH_ENTRIES);
      // Every entry is checked before anything is written: invalid input changes nothing.
      const entries = list.map((item, i) => parseNewEntry(item, `entries[${i}]`, td));
      const results = await createEach(ctx, entries, nowSeconds());
      const created = results.filter((r) => r.status === 'ok').length;
      note.target = entries.length === 1 ? entries[0]!.spiffeId : `${entries.length} entries`;
      if (created === 0 && entries.length > 0) note.outcome = 'error';
      note.detail = {
        requested: entries.length,
        created,
        ids: results.flatMap((r) => (r.status === 'ok' ? [r.entry.id] : [])).slice(0, 100),
      };
      return { body: { results } };
    },
  });

  addRoute(app, ctx, {
    method: 'GET',
    url: '/v1/entries',
    action: 'entry.list',
    handler: async (request, note) => {
      const q = query(request, ['spiffeId', 'parentId', 'selector']);
      const filter: { spiffeId?: string; parentId?: string; selectors?: f.SelectorValue[] } = {};
      const spiffeId = q.one('spiffeId');
      const parentId = q.one('parentId');
      if (spiffeId !== undefined) filter.spiffeId = f.spiffeId(spiffeId, 'spiffeId').toString();
      if (parentId !== undefined) filter.parentId = f.spiffeId(parentId, 'parentId').toString();
      const selectors = q.all('selector');
      if (selectors.length > 0) {
        filter.selectors = selectors.map((text, i) => {
          const colon = text.indexOf(':');
          if (colon <= 0) throw invalid(`selector[${i}]`, 'a selector filter is type:value');
          return f.selector({ type: text.slice(0, colon), value: text.slice(colon + 1) }, `selector[${i}]`);
        });
      }
      const entries = await ctx.store.listEntries(filter as EntryFilter);
      note.detail = { filter, count: entries.length };
      return { body: { entries } };
    },
  });

  addRoute(app, ctx, {
    method: 'GET',
    url: '/v1/entries/:id',
    action: 'entry.show',
    handler: async (request) => {
      const id = f.entryId((request.params as { id: string }).id, 'id');
      const entry = await ctx.store.getEntry(id);
      if (entry === null) throw new AdminError('ERR_ADMIN_NOT_FOUND', `no entry with ID ${id}`);
      return { body: entry };
    },
  });

  addRoute(app, ctx, {
    method: 'PATCH',
    url: '/v1/entries/:id',
    action: 'entry.update',
    handler: async (request, note) => {
      const id = f.entryId((request.params as { id: string }).id, 'id');
      const update = parseEntryUpdate(request.body, td);
      note.detail = { fields: Object.keys(update) };
      const entry = await ctx.store.updateEntry(id, update, nowSeconds());
      note.detail.revision = entry.revision;
      return { body: entry };
    },
  });

  addRoute(app, ctx, {
    method: 'DELETE',
    url: '/v1/entries/:id',
    action: 'entry.delete',
    handler: async (request, note) => {
      const id = f.entryId((request.params as { id: string }).id, 'id');
      const entry = await ctx.store.deleteEntry(id, nowSeconds());
      note.detail = { spiffeId: entry.spiffeId };
      return { body: entry };
    },
  });
}

/**
 * Creates each entry whole or not at all. Chunks go in one transaction each
 * while nothing conflicts; a chunk that fails is redone one entry per
 * transaction, so each entry gets its own result.
 */
async function createEach(ctx: ServerContext, entries: readonly NewEntry[], now: number): Promise<BatchResult[]> {
  const results: BatchResult[] = [];
  for (let start = 0; start < entries.length; start += CHUNK) {
    const chunk = entries.slice(start, start + CHUNK);
    if (chunk.length > 1) {
      try {
        const created = await ctx.store.createEntries(chunk, now);
        for (const entry of created) results.push({ status: 'ok', entry });
        continue;
      } catch (err) {
        if (!(err instanceof StoreError) || err.code !== 'ERR_STORE_ALREADY_EXISTS') throw err;
      }
    }
    for (const entry of chunk) {
      try {
        const [created] = await ctx.store.createEntries([entry], now);
        results.push({ status: 'ok', entry: created! });
      } catch (err) {
        if (!(err instanceof StoreError) || err.code === 'ERR_STORE_UNAVAILABLE') throw err;
        results.push({ status: 'error', error: errorResponse(err).body.error });
      }
    }
  }
  return results;
}
