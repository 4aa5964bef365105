/**
 * The admin API (`/v1/…`, docs/server-api.md): a fastify plugin the server
 * runtime registers on the admin socket and on the server API listener.
 * Every route checks that the caller is an admin (authorize.ts), validates
 * its input at the boundary (fields.ts) and writes an audit record (route.ts).
 * Routes are registered in their own encapsulated scope, so the error handler
 * and hooks here touch no other route of the server.
 */
import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../server-context.js';
import { agentRoutes } from './agents.js';
import { auditRoutes } from './audit.js';
import { bundleRoutes } from './bundles.js';
import { entryRoutes } from './entries.js';
import { joinTokenRoutes } from './join-tokens.js';
import { mintRoutes } from './mint.js';
import { policyRoutes } from './policies.js';
import { revokeRoutes } from './revoke.js';
import { prepareScope } from './route.js';

export { AdminError, type AdminErrorCode } from './admin-error.js';
export { ADMIN_SOCKET_ACTOR } from './authorize.js';
export { agentIdOf, hashJoinToken, newJoinTokenSecret, serverIdOf } from './join-tokens.js';

export async function adminRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  await app.register(async (scope) => {
    prepareScope(scope, ctx);
    entryRoutes(scope, ctx);
    joinTokenRoutes(scope, ctx);
    agentRoutes(scope, ctx);
    bundleRoutes(scope, ctx);
    mintRoutes(scope, ctx);
    policyRoutes(scope, ctx);
    revokeRoutes(scope, ctx);
    auditRoutes(scope, ctx);
  });
}
