/** `GET /agent/v1/watch`: the change stream (Server-Sent Events), see watch-hub.ts. */
import type { FastifyInstance } from 'fastify';
import type { AgentApiDeps } from './deps.js';
import { addAgentRoute } from './route.js';

export function watchRoute(app: FastifyInstance, deps: AgentApiDeps, position: () => number): void {
  addAgentRoute(app, deps, {
    method: 'GET',
    url: '/agent/v1/watch',
    auth: 'agent',
    handler: async (request, reply, session) => {
      deps.watch.reserve();
      reply.hijack();
      // The stream outlives fastify's request timeout; the hub's heartbeat keeps it alive.
      request.raw.socket.setTimeout(0);
      deps.watch.attach(reply.raw, session!.spiffeId, session!.agent.serialNumber, position());
      return undefined;
    },
  });
}
