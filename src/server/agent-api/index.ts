/**
 * The agent API (`/agent/v1/…`, docs/server-api.md): attestation, renewal,
 * the entries an agent serves, signing, JWT-SVIDs, bundles, policies,
 * revocations and the watch stream. Registered in its own encapsulated
 * scope on the server API listener.
 */
import type { FastifyInstance } from 'fastify';
import { attestRoute } from './attest.js';
import type { AgentApiDeps } from './deps.js';
import { jwtRoute } from './jwt.js';
import { readRoutes } from './reads.js';
import { renewRoute } from './renew.js';
import { signRoute } from './sign.js';
import { watchRoute } from './watch.js';

export type { AgentApiDeps, AgentSession } from './deps.js';
export { WatchHub } from './watch-hub.js';

export async function agentRoutes(app: FastifyInstance, deps: AgentApiDeps, options: { changePosition: () => number }): Promise<void> {
  await app.register(async (scope) => {
    attestRoute(scope, deps);
    renewRoute(scope, deps);
    signRoute(scope, deps);
    jwtRoute(scope, deps);
    readRoutes(scope, deps);
    watchRoute(scope, deps, options.changePosition);
  });
}
