/**
 * The caller: an Express service (plain HTTP on loopback for you to curl)
 * that calls the Fastify service over mTLS, accepting only its SPIFFE ID.
 *
 *   SPIFFE_ENDPOINT_SOCKET=unix:///path/to/agent.sock \
 *   CALLEE_ID=spiffe://example.org/fastify-service \
 *   npx tsx examples/mtls/express-service.ts
 *   curl http://127.0.0.1:3000/
 *
 * Env: SPIFFE_ENDPOINT_SOCKET, CALLEE_ID, CALLEE_URL
 * (https://127.0.0.1:8443/greeting), PORT (3000), SPIFFE_ID (which of our
 * SVIDs to use when the agent gives this process several).
 */
import express from 'express';
import { fetch } from 'undici';
import { authorizeId } from '../../src/spiffe/authorizers.js';
import { MtlsAgent } from '../../src/workload/mtls-agent.js';
import { X509Source } from '../../src/workload/x509-source.js';

const calleeId = process.env.CALLEE_ID ?? 'spiffe://example.org/fastify-service';
const calleeUrl = process.env.CALLEE_URL ?? 'https://127.0.0.1:8443/greeting';
const port = Number(process.env.PORT ?? 3000);
const myId = process.env.SPIFFE_ID;

const source = await X509Source.create(myId === undefined ? {} : { picker: (svids) => svids.find((s) => s.id.toString() === myId) });
const dispatcher = new MtlsAgent({ source, authorize: authorizeId(calleeId) });
console.log(`express-service is ${source.getX509Svid().id}`);

const app = express();
app.get('/', async (_req, res) => {
  try {
    const answer = await fetch(calleeUrl, { dispatcher });
    res.status(answer.status).json({ from: calleeId, answer: await answer.json() });
  } catch (err) {
    res.status(502).json({ error: 'callee refused or unreachable', reason: String((err as Error).cause ?? err) });
  }
});
const server = app.listen(port, '127.0.0.1', () => console.log(`express-service on http://127.0.0.1:${port}/ → ${calleeUrl}`));
const stop = async () => {
  server.close();
  await dispatcher.close();
  await source.close();
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
