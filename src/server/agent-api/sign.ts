/**
 * `POST /agent/v1/sign`: X.509-SVIDs for a batch of (entry, CSR) pairs.
 * Every entry must be one the agent serves, or the whole batch is refused;
 * the identity always comes from the entry, only the key from the CSR. TTL:
 * the entry's, else the server default. One audit record per request.
 */
import type { FastifyInstance } from 'fastify';
import { CaError } from '../../ca/ca-error.js';
import { badRequest } from '../server-error.js';
import { authorizedEntriesFor } from './authorize-entries.js';
import type { AgentApiDeps } from './deps.js';
import * as f from './fields.js';
import { MAX_CSR_LENGTH } from './attest.js';
import { chainPem, epochSeconds } from './pem-chain.js';
import { addAgentRoute } from './route.js';

export const MAX_SIGN_BATCH = 1000;
const MAX_ENTRY_ID_LENGTH = 128;
const AUDITED_IDS = 100;

export function signRoute(app: FastifyInstance, deps: AgentApiDeps): void {
  const { ctx } = deps;
  addAgentRoute(app, deps, {
    method: 'POST',
    url: '/agent/v1/sign',
    auth: 'agent',
    action: 'svid.sign',
    handler: async (request, _reply, session, note) => {
      const { spiffeId: agentId } = session!;
      const body = f.object(request.body, '', ['requests']);
      const items = f.array(body.requests, 'requests', 1, MAX_SIGN_BATCH).map((item, i) => {
        const r = f.object(item, `requests[${i}]`, ['entryId', 'csr']);
        return { entryId: f.string(r.entryId, `requests[${i}].entryId`, MAX_ENTRY_ID_LENGTH), csr: f.string(r.csr, `requests[${i}].csr`, MAX_CSR_LENGTH) };
      });
      note.target = agentId;
      note.detail = { count: items.length, entryIds: items.slice(0, AUDITED_IDS).map((r) => r.entryId) };
      const entries = authorizedEntriesFor(deps, agentId, items.map((r) => r.entryId), note);
      deps.limits.signing(agentId, items.length);
      const now = ctx.now();
      const svids = items.map((item, i) => {
        const entry = entries[i]!;
        try {
          const mint = ctx.ca.mintX509Svid({
            spiffeId: entry.spiffeId,
            csr: item.csr,
            ttlSeconds: entry.x509SvidTtl > 0 ? entry.x509SvidTtl : ctx.defaults.x509SvidTtlSeconds,
            dnsNames: entry.dnsNames,
            now,
          });
          return { entryId: entry.id, spiffeId: entry.spiffeId, chainPem: chainPem(mint.chain), serialNumber: mint.serialNumber, expiresAt: epochSeconds(mint.expiresAt) };
        } catch (err) {
          if (err instanceof CaError && (err.code.includes('CSR') || err.code === 'ERR_CA_UNSUPPORTED_KEY')) throw badRequest(`requests[${i}].csr`, `requests[${i}].csr: ${err.message}`);
          throw err;
        }
      });
      note.detail.spiffeIds = [...new Set(svids.slice(0, AUDITED_IDS).map((s) => s.spiffeId))];
      note.detail.serialNumbers = svids.slice(0, AUDITED_IDS).map((s) => s.serialNumber);
      return { svids };
    },
  });
}
