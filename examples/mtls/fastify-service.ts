/**
 * The callee: a Fastify service served over mTLS. Only the Express service's
 * SPIFFE ID may call it.
 *
 *   SPIFFE_ENDPOINT_SOCKET=unix:///path/to/agent.sock \
 *   CALLER_ID=spiffe://example.org/express-service \
 *   npx tsx examples/mtls/fastify-service.ts
 */
import Fastify from 'fastify';
import type { Server } from 'node:https';
import { authorizeId } from '../../src/spiffe/authorizers.js';
import { createMtlsServer } from '../../src/workload/mtls-server.js';
import { meshwardFastify } from '../../src/workload/http-middleware.js';
import { X509Source } from '../../src/workload/x509-source.js';

const callerId = process.env.CALLER_ID ?? 'spiffe://example.org/express-service';
const port = Number(process.env.PORT ?? 8443);

const source = await X509Source.create(); // SPIFFE_ENDPOINT_SOCKET; resolves after the first SVID
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
