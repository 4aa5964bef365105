/**
 * `POST /agent/v1/attest`: join-token node attestation. The CSR is checked
 * before the token is touched (a malformed request never burns a token);
 * the token is consumed atomically by its SHA-256, so a second use fails
 * (409) on every replica. The agent's ID comes from the token's public ID:
 * `spiffe://TD/meshward/agent/join_token/<token-id>`, its node selector
 * `join_token:<token-id>` (a node alias created with the token matches it).
 */
import type { FastifyInstance } from 'fastify';
import { publicKeyFromCsr } from '../../ca/index.js';
import { agentIdOf, hashJoinToken } from '../admin/join-tokens.js';
import { ServerError } from '../server-error.js';
import type { AgentApiDeps } from './deps.js';
import * as f from './fields.js';
import { chainPem, epochSeconds } from './pem-chain.js';
import { addAgentRoute } from './route.js';

export const MAX_JOIN_TOKEN_LENGTH = 512;
export const MAX_CSR_LENGTH = 64 * 1024;

export function attestRoute(app: FastifyInstance, deps: AgentApiDeps): void {
  const { ctx } = deps;
  addAgentRoute(app, deps, {
    method: 'POST',
    url: '/agent/v1/attest',
    auth: 'none',
    action: 'agent.attest',
    handler: async (request, _reply, _session, note) => {
      deps.limits.attestation(request.socket.remoteAddress ?? '');
      const body = f.object(request.body, '', ['joinToken', 'csr']);
      const token = f.string(body.joinToken, 'joinToken', MAX_JOIN_TOKEN_LENGTH);
      const csr = f.string(body.csr, 'csr', MAX_CSR_LENGTH);
      const publicKey = publicKeyFromCsr(csr);
      const now = ctx.now();
      const joinToken = await ctx.store.consumeJoinToken(hashJoinToken(token), epochSeconds(now));
      if (joinToken === null) {
        note.target = 'join_token';
        throw new ServerError('ERR_SERVER_JOIN_TOKEN_INVALID', 409, 'the join token is unknown, already used or expired');
      }
      const spiffeId = agentIdOf(ctx.trustDomain.name, joinToken.id);
      note.target = spiffeId;
      note.detail = { tokenId: joinToken.id, ...(joinToken.aliasSpiffeId === null ? {} : { aliasSpiffeId: joinToken.aliasSpiffeId }) };
      const mint = ctx.ca.mintX509Svid({ spiffeId, publicKey, ttlSeconds: ctx.defaults.x509SvidTtlSeconds, now });
      const agent = await ctx.store.upsertAgent(
        {
          spiffeId,
          attestationType: 'join_token',
          selectors: [{ type: 'join_token', value: joinToken.id }],
          serialNumber: mint.serialNumber,
          expiresAt: epochSeconds(mint.expiresAt),
        },
        epochSeconds(now),
      );
      deps.agents.put(agent);
      note.detail.serialNumber = mint.serialNumber;
      return { spiffeId, chainPem: chainPem(mint.chain), bundle: ctx.ca.bundle().toJSON() };
    },
  });
}
