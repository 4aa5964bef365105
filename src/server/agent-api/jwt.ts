/** `POST /agent/v1/jwt`: a JWT-SVID for one entry the agent serves. */
import type { FastifyInstance } from 'fastify';
import { authorizedEntriesFor } from './authorize-entries.js';
import type { AgentApiDeps } from './deps.js';
import * as f from './fields.js';
import { addAgentRoute } from './route.js';

const MAX_AUDIENCES = 32;

export function jwtRoute(app: FastifyInstance, deps: AgentApiDeps): void {
  const { ctx } = deps;
  addAgentRoute(app, deps, {
    method: 'POST',
    url: '/agent/v1/jwt',
    auth: 'agent',
    action: 'svid.jwt',
    handler: async (request, _reply, session, note) => {
      const { spiffeId: agentId } = session!;
      const body = f.object(request.body, '', ['entryId', 'audience']);
      const entryId = f.string(body.entryId, 'entryId', 128);
      const audience = f.array(body.audience, 'audience', 1, MAX_AUDIENCES).map((a, i) => f.string(a, `audience[${i}]`, 1024));
      note.target = agentId;
      note.detail = { entryId, audience };
      const [entry] = authorizedEntriesFor(deps, agentId, [entryId], note);
      deps.limits.signing(agentId);
      const token = ctx.ca.mintJwtSvid({
        spiffeId: entry!.spiffeId,
        audience,
        ttlSeconds: entry!.jwtSvidTtl > 0 ? entry!.jwtSvidTtl : ctx.defaults.jwtSvidTtlSeconds,
        now: ctx.now(),
      });
      const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as { exp: number };
      note.detail.spiffeId = entry!.spiffeId;
      return { token, expiresAt: claims.exp };
    },
  });
}
