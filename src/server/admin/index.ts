/**
 * The admin API (`/v1/…`): a fastify plugin the server runtime registers on
 * the admin socket and on the server API listener. Every route checks that
 * the caller is an admin and writes an audit record. See docs/server-api.md.
 */
import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../server-context.js';

export async function adminRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  void app;
  void ctx;
}
