/**
 * Credential-leak response for one identity, in one request: delete every
 * entry with that SPIFFE ID (no new SVIDs), ban it if it is an agent, then
 * record the revocation (every SVID of the ID issued before now is refused).
 * The revocation is recorded last, so an SVID signed while the entries were
 * being deleted is still older than the record. Idempotent: run it again
 * after a failure.
 */
import { randomUUID, X509Certificate } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { StoreError } from '../../store/store-error.js';
import type { ServerContext } from '../server-context.js';
import * as f from './fields.js';
import { addRoute } from './route.js';
import { epochSeconds } from '../../duration.js';

export function revokeRoutes(app: FastifyInstance, ctx: ServerContext): void {
  addRoute(app, ctx, {
    method: 'POST',
    url: '/v1/revoke',
    action: 'revoke',
    handler: async (request, note) => {
      const body = f.object(request.body, '', ['spiffeId', 'reason']);
      const id = f.localId(f.required(body.spiffeId, 'spiffeId'), 'spiffeId', ctx.trustDomain).toString();
      const reason = body.reason === undefined ? '' : f.string(body.reason, 'reason', f.MAX_REASON_BYTES, { allowEmpty: true });
      note.target = id;

      const deletedEntries: string[] = [];
      let longestTtl = Math.max(ctx.defaults.x509SvidTtlSeconds, ctx.defaults.jwtSvidTtlSeconds);
      for (const entry of await ctx.store.listEntries({ spiffeId: id })) {
        longestTtl = Math.max(longestTtl, entry.x509SvidTtl, entry.jwtSvidTtl);
        try {
          await ctx.store.deleteEntry(entry.id, nowSeconds(ctx));
          deletedEntries.push(entry.id);
        } catch (err) {
          if (!(err instanceof StoreError) || err.code !== 'ERR_STORE_NOT_FOUND') throw err; // deleted meanwhile
        }
      }

      const bannedAgents: string[] = [];
      const revokedSerials: string[] = [];
      let agentExpiry = 0;
      const agent = await ctx.store.getAgent(id);
      if (agent !== null) {
        if (!agent.banned) await ctx.store.banAgent(id, nowSeconds(ctx));
        bannedAgents.push(id);
        revokedSerials.push(agent.serialNumber);
        agentExpiry = agent.expiresAt;
      }

      const now = nowSeconds(ctx);
      const expiresAt = Math.max(now + longestTtl, agentExpiry, Math.min(now + f.MAX_TTL_SECONDS, latestAuthorityExpiry(ctx)));
      await ctx.store.addRevocation({ id: randomUUID(), spiffeId: id, serialNumber: revokedSerials[0] ?? null, reason, expiresAt, createdAt: now });
      note.detail = { deletedEntries, bannedAgents, revokedSerials, reason, expiresAt };
      return { body: { spiffeId: id, deletedEntries, bannedAgents, revokedSerials } };
    },
  });
}

const nowSeconds = (ctx: ServerContext): number => epochSeconds(ctx.now());

/**
 * No SVID outlives the CA certificate that signed it, so the revocation can
 * be pruned once every authority in our bundle has expired (capped by the
 * longest SVID TTL the API allows).
 */
function latestAuthorityExpiry(ctx: ServerContext): number {
  let latest = 0;
  for (const der of ctx.ca.bundle().x509Authorities()) {
    const notAfter = Math.ceil(new Date(new X509Certificate(der).validTo).getTime() / 1000);
    if (notAfter > latest) latest = notAfter;
  }
  return latest;
}
