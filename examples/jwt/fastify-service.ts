/**
 * The callee, JWT-SVID flavour: a Fastify service that requires a JWT-SVID
 * for its own SPIFFE ID as audience, from the Express service only. Plain
 * HTTP on loopback here, to show the token alone; in production combine it
 * with mTLS (see ../mtls) and certificate binding.
 *
 * No replay protection (`replay: true`) here: the caller reuses its token
 * until half its lifetime (JwtBearer, and the agent's own cache), so every
 * request after the first would be refused as a replay. Replay protection is
 * for callers that mint a fresh token per request.
 *
 *   SPIFFE_ENDPOINT_SOCKET=unix:///path/to/agent.sock npx tsx examples/jwt/fastify-service.ts
 *
 * Env: SPIFFE_ENDPOINT_SOCKET, CALLER_ID, PORT (8080), SPIFFE_ID (our
 * SPIFFE ID, the audience; default: our default X.509 identity's).
 */
import Fastify from 'fastify';
import { authorizeId } from '../../src/spiffe/authorizers.js';
import { meshwardFastify, requireJwtSvid } from '../../src/workload/http-middleware.js';
import { JwtSource } from '../../src/workload/jwt-source.js';
import { X509Source } from '../../src/workload/x509-source.js';

const callerId = process.env.CALLER_ID ?? 'spiffe://example.org/express-service';
const port = Number(process.env.PORT ?? 8080);

const jwt = await JwtSource.create(); // JWT bundles, live
const audience = process.env.SPIFFE_ID ?? (await ourDefaultId());

const app = Fastify();
await app.register(meshwardFastify);
app.get('/greeting', { preHandler: requireJwtSvid({ audience, bundles: jwt, authorize: authorizeId(callerId) }) }, async (request) => ({
  greeting: 'hello',
  to: String(request.jwtSvid?.id),
}));
await app.listen({ port, host: '127.0.0.1' });
console.log(`fastify-service (JWT) on http://127.0.0.1:${port}, audience ${audience}, accepting ${callerId}`);
const stop = async () => {
  await app.close();
  await jwt.close();
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);

/** Our default SPIFFE ID, from the X.509 context (the audience callers use for us). */
async function ourDefaultId(): Promise<string> {
  const me = await X509Source.create();
  try {
    return me.getX509Svid().id.toString();
  } finally {
    await me.close();
  }
}
