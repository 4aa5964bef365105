/**
 * The callee, JWT-SVID flavour: a Fastify service that requires a JWT-SVID
 * for its own SPIFFE ID as audience, from the Express service only, with
 * replay protection. Plain HTTP on loopback here, to show the token alone;
 * in production combine it with mTLS (see ../mtls) and certificate binding.
 *
 *   SPIFFE_ENDPOINT_SOCKET=unix:///path/to/agent.sock npx tsx examples/jwt/fastify-service.ts
 */
import Fastify from 'fastify';
import { authorizeId } from '../../src/spiffe/authorizers.js';
import { meshwardFastify, requireJwtSvid } from '../../src/workload/http-middleware.js';
import { JwtSource } from '../../src/workload/jwt-source.js';
import { X509Source } from '../../src/workload/x509-source.js';

const callerId = process.env.CALLER_ID ?? 'spiffe://example.org/express-service';
const port = Number(process.env.PORT ?? 8080);

const jwt = await JwtSource.create(); // JWT bundles, live
const me = await X509Source.create(); // only to learn our own SPIFFE ID (the audience)
const audience = me.getX509Svid().id.toString();
await me.close();

const app = Fastify();
await app.register(meshwardFastify);
app.get('/greeting', { preHandler: requireJwtSvid({ audience, bundles: jwt, replay: true, authorize: authorizeId(callerId) }) }, async (request) => ({
  greeting: 'hello',
  to: String(request.jwtSvid?.id),
}));
await app.listen({ port, host: '127.0.0.1' });
console.log(`fastify-service (JWT) on http://127.0.0.1:${port}, audience ${audience}, accepting ${callerId}`);
process.once('SIGINT', async () => {
  await app.close();
  await jwt.close();
});
