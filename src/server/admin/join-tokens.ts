/**
 * Join tokens: 32 random bytes (base64url) shown once; only their SHA-256 is
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
      const token = randomBytes(32).toString('base64url');
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
