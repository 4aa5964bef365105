/**
 * The agent's reads: its entries, the bundles (ours, and the federated ones
 * its entries federate with), the authorization policies and the live
 * revocations. Not audited (they change nothing).
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { SpiffeId } from '../../spiffe/spiffe-id.js';
import type { AgentApiDeps } from './deps.js';
import { epochSeconds } from './pem-chain.js';
import { addAgentRoute } from './route.js';

export function readRoutes(app: FastifyInstance, deps: AgentApiDeps): void {
  const { ctx } = deps;

  addAgentRoute(app, deps, {
    method: 'GET',
    url: '/agent/v1/entries',
    auth: 'agent',
    handler: async (_request, _reply, session) => ({ entries: ctx.entries.authorizedEntries(SpiffeId.parse(session!.spiffeId)) }),
  });

  addAgentRoute(app, deps, {
    method: 'GET',
    url: '/agent/v1/bundles',
    auth: 'agent',
    handler: async (_request, _reply, session) => {
      const wanted = new Set<string>();
      for (const e of ctx.entries.authorizedEntries(SpiffeId.parse(session!.spiffeId))) for (const td of e.federatesWith) wanted.add(td.replace(/^spiffe:\/\//, ''));
      const federated: Record<string, unknown> = {};
      if (wanted.size > 0) {
        for (const b of await ctx.store.listBundles()) {
          if (b.trustDomain === ctx.trustDomain.name || !wanted.has(b.trustDomain)) continue;
          try {
            federated[b.trustDomain] = JSON.parse(b.document);
          } catch {
            ctx.log.warn({ trustDomain: b.trustDomain }, 'stored federated bundle is not JSON; left out');
          }
        }
      }
      return { trustDomain: ctx.trustDomain.name, bundle: ctx.ca.bundle().toJSON(), federated };
    },
  });

  addAgentRoute(app, deps, {
    method: 'GET',
    url: '/agent/v1/policies',
    auth: 'agent',
    handler: async () => {
      const policies = (await ctx.store.listPolicies())
        .map((p) => ({ namespace: p.namespace, name: p.name, document: p.document, revision: p.revision }))
        .sort((a, b) => (a.namespace === b.namespace ? a.name.localeCompare(b.name) : a.namespace.localeCompare(b.namespace)));
      // An opaque revision every replica computes alike; it changes with any put or delete.
      const hash = createHash('sha256');
      for (const p of policies) hash.update(`${p.namespace}\u0000${p.name}\u0000${p.revision}\u0000`);
      return { revision: hash.digest('hex').slice(0, 16), policies: policies.map(({ namespace, name, document }) => ({ namespace, name, document })) };
    },
  });

  addAgentRoute(app, deps, {
    method: 'GET',
    url: '/agent/v1/revocations',
    auth: 'agent',
    handler: async () => {
      const list = await ctx.store.listRevocations(epochSeconds(ctx.now()));
      return { revocations: list.map((r) => ({ spiffeId: r.spiffeId, serialNumber: r.serialNumber, createdAt: r.createdAt, expiresAt: r.expiresAt })) };
    },
  });
}
