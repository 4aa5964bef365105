/**
 * X.509-SVID and JWT-SVID minting for an ID, as `spire-server x509|jwt mint`:
 * the caller is an admin, so any workload ID of our trust domain (outside the
 * reserved `/meshward/` namespace). The CSR only gives the key.
 */
import type { FastifyInstance } from 'fastify';
import { encodePem } from '../../spiffe/pem.js';
import type { ServerContext } from '../server-context.js';
import { invalid } from './admin-error.js';
import * as f from './fields.js';
import { addRoute } from './route.js';
import { epochSeconds } from '../../duration.js';

const MAX_CSR_BYTES = 64 * 1024;
const MAX_AUDIENCES = 32;

export function mintRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const td = ctx.trustDomain;

  addRoute(app, ctx, {
    method: 'POST',
    url: '/v1/x509/mint',
    action: 'x509.mint',
    handler: async (request, note) => {
      const body = f.object(request.body, '', ['spiffeId', 'csr', 'ttlSeconds', 'dnsNames']);
      const id = f.workloadId(f.required(body.spiffeId, 'spiffeId'), 'spiffeId', td);
      note.target = id.toString();
      const csr = f.required(body.csr, 'csr');
      if (typeof csr !== 'string' || !csr.includes('-----BEGIN')) throw invalid('csr', 'must be a PEM PKCS#10 certificate request');
      if (Buffer.byteLength(csr) > MAX_CSR_BYTES) throw invalid('csr', `is larger than ${MAX_CSR_BYTES} bytes`);
      const ttlSeconds = body.ttlSeconds === undefined ? ctx.defaults.x509SvidTtlSeconds : svidTtl(body.ttlSeconds);
      const dnsNames = body.dnsNames === undefined ? [] : f.dnsNames(body.dnsNames, 'dnsNames');
      const mint = ctx.ca.mintX509Svid({ spiffeId: id, csr, ttlSeconds, dnsNames, now: ctx.now() });
      const expiresAt = epochSeconds(mint.expiresAt);
      note.detail = { serialNumber: mint.serialNumber, expiresAt, ttlSeconds };
      return {
        body: {
          spiffeId: id.toString(),
          chainPem: mint.chain.map((der) => encodePem('CERTIFICATE', der)).join(''),
          bundlePem: ctx.ca.bundle().toPem(),
          serialNumber: mint.serialNumber,
          expiresAt,
        },
      };
    },
  });

  addRoute(app, ctx, {
    method: 'POST',
    url: '/v1/jwt/mint',
    action: 'jwt.mint',
    handler: async (request, note) => {
      const body = f.object(request.body, '', ['spiffeId', 'audience', 'ttlSeconds']);
      const id = f.workloadId(f.required(body.spiffeId, 'spiffeId'), 'spiffeId', td);
      note.target = id.toString();
      const list = f.array(f.required(body.audience, 'audience'), 'audience', MAX_AUDIENCES);
      if (list.length === 0) throw invalid('audience', 'at least one audience is required');
      const audience = list.map((a, i) => f.string(a, `audience[${i}]`, 1024));
      const ttlSeconds = body.ttlSeconds === undefined ? ctx.defaults.jwtSvidTtlSeconds : svidTtl(body.ttlSeconds);
      const token = ctx.ca.mintJwtSvid({ spiffeId: id, audience, ttlSeconds, now: ctx.now() });
      const expiresAt = expiryOf(token);
      // The token is a bearer credential: never in the audit record.
      note.detail = { audience, expiresAt, ttlSeconds };
      return { body: { token, expiresAt } };
    },
  });
}

function svidTtl(value: unknown): number {
  return f.integer(value, 'ttlSeconds', 1, f.MAX_TTL_SECONDS);
}

/** `exp` of a token we just signed. */
function expiryOf(token: string): number {
  const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as { exp: number };
  return payload.exp;
}
