/**
 * The caller, JWT-SVID flavour: fetches a JWT-SVID for the callee's SPIFFE ID
 * (cached until half its lifetime) and sends it as `Authorization: Bearer`.
 *
 *   SPIFFE_ENDPOINT_SOCKET=unix:///path/to/agent.sock npx tsx examples/jwt/express-service.ts
 *   curl http://127.0.0.1:3001/
 *
 * Env: SPIFFE_ENDPOINT_SOCKET, CALLEE_ID (the audience), CALLEE_URL
 * (http://127.0.0.1:8080/greeting), PORT (3001), SPIFFE_ID (which of our
 * identities signs the token when the agent gives this process several).
 */
import express from 'express';
import { fetch } from 'undici';
import { JwtBearer } from '../../src/workload/jwt-auth.js';
import { JwtSource } from '../../src/workload/jwt-source.js';

const calleeId = process.env.CALLEE_ID ?? 'spiffe://example.org/fastify-service';
const calleeUrl = process.env.CALLEE_URL ?? 'http://127.0.0.1:8080/greeting';
const port = Number(process.env.PORT ?? 3001);
const myId = process.env.SPIFFE_ID;

const source = await JwtSource.create();
const bearer = new JwtBearer(source, myId === undefined ? {} : { subject: myId });

const app = express();
app.get('/', async (_req, res) => {
  try {
    const answer = await fetch(calleeUrl, { headers: { authorization: await bearer.header(calleeId) } });
    res.status(answer.status).json({ answer: await answer.json() });
  } catch (err) {
    res.status(502).json({ error: String((err as Error).message) });
  }
});
const server = app.listen(port, '127.0.0.1', () => console.log(`express-service (JWT) on http://127.0.0.1:${port}/ → ${calleeUrl}`));
const stop = async () => {
  server.close();
  await source.close();
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
