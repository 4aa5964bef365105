/**
 * The health listener (plain HTTP, `health_bind`): `/live` answers 200 while
 * the process runs; `/ready` answers 200 when the datastore answers a ping
 * (within 1 s) and the CA is loaded, 503 otherwise, with the reason.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Datastore } from '../store/datastore.js';
import { quietRequests } from './quiet-logs.js';

const PING_TIMEOUT_MS = 1000;

export interface ReadinessProbe {
  readonly store: Datastore;
  readonly caLoaded: () => boolean;
}

/** null when ready, else why not. */
export async function notReadyReason(probe: ReadinessProbe): Promise<string | null> {
  if (!probe.caLoaded()) return 'the CA is not loaded';
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      probe.store.ping(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${PING_TIMEOUT_MS} ms`)), PING_TIMEOUT_MS);
      }),
    ]);
    return null;
  } catch (err) {
    return `the datastore is unavailable: ${(err as Error).message}`;
  } finally {
    clearTimeout(timer);
  }
}

export function healthApp(probe: ReadinessProbe, log: Logger): FastifyInstance {
  const app = Fastify({ loggerInstance: log, ...quietRequests(), bodyLimit: 1024, connectionTimeout: 10_000, requestTimeout: 10_000 }) as unknown as FastifyInstance;
  app.get('/live', async () => ({ status: 'live' }));
  app.get('/ready', async (_request, reply) => {
    const reason = await notReadyReason(probe);
    if (reason === null) return { status: 'ready' };
    return reply.code(503).send({ status: 'not ready', reason });
  });
  app.setNotFoundHandler((_request, reply) => reply.code(404).send({ error: { code: 'ERR_SERVER_NOT_FOUND', message: 'only /live and /ready are served here' } }));
  return app;
}
