/**
 * The callee: a Fastify service served over mTLS. Only the Express service's
 * SPIFFE ID may call it.
 *
 *   SPIFFE_ENDPOINT_SOCKET=unix:///path/to/agent.sock \
 *   CALLER_ID=spiffe://example.org/express-service \
 *   npx tsx examples/mtls/fastify-service.ts
 *
 * Env: SPIFFE_ENDPOINT_SOCKET (the agent), CALLER_ID (who may call), PORT
 * (8443), SPIFFE_ID (which of our SVIDs to use when the agent gives this
 * process several; default: the first, the default identity). See
 * docs/sdk.md for the registration entries to create.
 */
import Fastify from 'fastify';
import type { Server } from 'node:https';
import { authorizeId } from '../../src/spiffe/authorizers.js';
import { createMtlsServer } from '../../src/workload/mtls-server.js';
import { meshwardFastify } from '../../src/workload/http-middleware.js';
import { X509Source } from '../../src/workload/x509-source.js';

const callerId = process.env.CALLER_ID ?? 'spiffe://example.org/express-service';
const port = Number(process.env.PORT ?? 8443);
const myId = process.env.SPIFFE_ID;

// SPIFFE_ENDPOINT_SOCKET; resolves after the first SVID
const source = await X509Source.create(myId === undefined ? {} : { picker: (svids) => svids.find((s) => s.id.toString() === myId) });
console.log(`fastify-service is ${source.getX509Svid().id}`);

const app = Fastify({
  logger: false,
  // the TLS server is ours: every connection is verified before Fastify sees a byte
  serverFactory: (handler) => createMtlsServer({ source, authorize: authorizeId(callerId) }, handler) as Server,
});
await app.register(meshwardFastify);
app.get('/greeting', async (request) => ({ greeting: 'hello', to: String(request.spiffeId) }));

await app.listen({ port, host: '127.0.0.1' });
console.log(`fastify-service listening on https://127.0.0.1:${port}, accepting ${callerId}`);
const stop = async () => {
  await app.close();
  await source.close();
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
