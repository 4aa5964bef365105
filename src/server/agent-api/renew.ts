/** `POST /agent/v1/renew`: a new agent SVID for the same ID; its serial becomes the only one accepted. */
import type { FastifyInstance } from 'fastify';
import { publicKeyFromCsr } from '../../ca/index.js';
import { denied } from '../server-error.js';
import type { AgentApiDeps } from './deps.js';
import * as f from './fields.js';
import { MAX_CSR_LENGTH } from './attest.js';
import { chainPem, epochSeconds } from './pem-chain.js';
import { addAgentRoute } from './route.js';

export function renewRoute(app: FastifyInstance, deps: AgentApiDeps): void {
  const { ctx } = deps;
  addAgentRoute(app, deps, {
    method: 'POST',
    url: '/agent/v1/renew',
    auth: 'agent',
    action: 'agent.renew',
    handler: async (request, _reply, session, note) => {
      const { agent, spiffeId } = session!;
      deps.limits.signing(spiffeId);
      const body = f.object(request.body, '', ['csr']);
      const publicKey = publicKeyFromCsr(f.string(body.csr, 'csr', MAX_CSR_LENGTH));
      if (deps.revocations.revocationOf(spiffeId) !== undefined) throw denied(`${spiffeId} is revoked`, 'ERR_SERVER_REVOKED');
      const now = ctx.now();
      const mint = ctx.ca.mintX509Svid({ spiffeId, publicKey, ttlSeconds: ctx.defaults.x509SvidTtlSeconds, now });
      const updated = await ctx.store.upsertAgent(
        { spiffeId, attestationType: agent.attestationType, selectors: agent.selectors, serialNumber: mint.serialNumber, expiresAt: epochSeconds(mint.expiresAt) },
        epochSeconds(now),
      );
      deps.agents.put(updated);
      note.detail = { serialNumber: mint.serialNumber, previousSerialNumber: agent.serialNumber };
      return { spiffeId, chainPem: chainPem(mint.chain) };
    },
  });
}
