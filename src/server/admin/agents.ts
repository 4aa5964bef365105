/** Attested agents: list, ban (never again under this ID), evict (may re-attest with a new token). */
import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../server-context.js';
import * as f from './fields.js';
import { query } from './query.js';
import { addRoute } from './route.js';
import { epochSeconds } from '../../duration.js';

export function agentRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const nowSeconds = (): number => epochSeconds(ctx.now());

  addRoute(app, ctx, {
    method: 'GET',
    url: '/v1/agents',
    action: 'agent.list',
    handler: async (request, note) => {
      query(request, []);
      const agents = await ctx.store.listAgents();
      note.detail = { count: agents.length };
      return { body: { agents } };
    },
  });

  for (const [verb, action] of [
    ['ban', 'agent.ban'],
    ['evict', 'agent.evict'],
  ] as const) {
    addRoute(app, ctx, {
      method: 'POST',
      url: `/v1/agents/${verb}`,
      action,
      handler: async (request, note) => {
        const body = f.object(request.body, '', ['spiffeId']);
        const id = f.localId(f.required(body.spiffeId, 'spiffeId'), 'spiffeId', ctx.trustDomain).toString();
        note.target = id;
        const agent = verb === 'ban' ? await ctx.store.banAgent(id, nowSeconds()) : await ctx.store.evictAgent(id, nowSeconds());
        return { body: agent };
      },
    });
  }
}
