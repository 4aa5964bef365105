/**
 * Join tokens: 32 random bytes (hex) shown once; only their SHA-256 is
 * stored. With `aliasSpiffeId`, the node-alias entry the attested agent joins
 * is created too (parent `spiffe://TD/meshward/server`, selector `join_token:<id>`).
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../server-context.js';
import * as f from './fields.js';
import { addRoute } from './route.js';
import { epochSeconds } from '../../duration.js';
import { newEntry } from '../../store/new-entry.js';

export const DEFAULT_JOIN_TOKEN_TTL_SECONDS = 600;
export const MAX_JOIN_TOKEN_TTL_SECONDS = 30 * 86400;

export const serverIdOf = (trustDomain: string): string => `spiffe://${trustDomain}/meshward/server`;
export const agentIdOf = (trustDomain: string, tokenId: string): string => `spiffe://${trustDomain}/meshward/agent/join_token/${tokenId}`;
export const hashJoinToken = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');

/**
 * A new join token's secret: 32 random bytes as hex. Not base64url: one
 * token in 64 would start with '-', and `--join-token -…` reads as a flag.
 */
export const newJoinTokenSecret = (): string => randomBytes(32).toString('hex');

/**
 * A one-time join token made in process by the local operator's command
 * (`server run --print-join-token`, `up`), stored and audited as
 * `POST /v1/join-tokens` does (only its SHA-256 is kept).
 */
export async function createLocalJoinToken(ctx: ServerContext, ttlSeconds: number, via: string): Promise<{ token: string; id: string }> {
  const now = epochSeconds(ctx.now());
  const id = randomUUID();
  const token = newJoinTokenSecret();
  await ctx.store.createJoinToken({ id, tokenHash: hashJoinToken(token), expiresAt: now + ttlSeconds, aliasSpiffeId: null, createdAt: now });
  await ctx.audit({ actor: 'local-admin-socket', action: 'join_token.create', target: agentIdOf(ctx.trustDomain.name, id), outcome: 'success', detail: { tokenId: id, ttlSeconds, via } });
  return { token, id };
}

export function joinTokenRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const td = ctx.trustDomain;
  addRoute(app, ctx, {
    method: 'POST',
    url: '/v1/join-tokens',
    action: 'join_token.create',
    handler: async (request, note) => {
      const body = f.object(request.body ?? {}, '', ['ttlSeconds', 'aliasSpiffeId']);
      const ttl = body.ttlSeconds === undefined ? DEFAULT_JOIN_TOKEN_TTL_SECONDS : f.integer(body.ttlSeconds, 'ttlSeconds', 1, MAX_JOIN_TOKEN_TTL_SECONDS);
      const alias = body.aliasSpiffeId === undefined ? null : f.workloadId(body.aliasSpiffeId, 'aliasSpiffeId', td).toString();
      const now = epochSeconds(ctx.now());
      const id = randomUUID();
      const token = newJoinTokenSecret();
      const agentSpiffeId = agentIdOf(td.name, id);
      note.target = agentSpiffeId;
      note.detail = { tokenId: id, ttlSeconds: ttl, ...(alias === null ? {} : { aliasSpiffeId: alias }) };
      let aliasEntryId: string | undefined;
      if (alias !== null) {
        const [entry] = await ctx.store.createEntries(
          [
            newEntry({ spiffeId: alias, parentId: serverIdOf(td.name), selectors: [{ type: 'join_token', value: id }] }),
          ],
          now,
        );
        aliasEntryId = entry!.id;
        note.detail.aliasEntryId = aliasEntryId;
      }
      try {
        await ctx.store.createJoinToken({ id, tokenHash: hashJoinToken(token), expiresAt: now + ttl, aliasSpiffeId: alias, createdAt: now });
      } catch (err) {
        if (aliasEntryId !== undefined) await ctx.store.deleteEntry(aliasEntryId, now).catch(() => undefined);
        throw err;
      }
      return { body: { token, id, agentSpiffeId, expiresAt: now + ttl } };
    },
  });
}
