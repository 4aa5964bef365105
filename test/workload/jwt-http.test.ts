import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { connect as tlsConnect } from 'node:tls';
import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import { SignJWT } from 'jose';
import { Bundle } from '../../src/spiffe/bundle.js';
import { authorizeMemberOf, authorizeId } from '../../src/spiffe/authorizers.js';
import { JwtSvid } from '../../src/spiffe/jwt/jwt-svid.js';
import { createMtlsServer } from '../../src/workload/mtls-server.js';
import { certificateThumbprint, JtiReplayCache, JwtBearer } from '../../src/workload/jwt-auth.js';
import { requireJwtSvid, requireSpiffeId, meshwardFastify } from '../../src/workload/http-middleware.js';
import { exampleCa, svidFrom, MutableSource } from './fixtures.js';

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const jwtBundle = new Bundle('example.org', { jwtAuthorities: [{ keyId: 'k1', publicKey }] });
const AUD = 'spiffe://example.org/api';

async function token(claims: Record<string, unknown> = {}, key: KeyObject = privateKey, ttl = 300): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ sub: 'spiffe://example.org/caller', aud: [AUD], iat: now, exp: now + ttl, ...claims }).setProtectedHeader({ alg: 'ES256', kid: 'k1', typ: 'JWT' }).sign(key);
}

const serverSvid = svidFrom(exampleCa, 'spiffe://example.org/api');
const clientSvid = svidFrom(exampleCa, 'spiffe://example.org/caller');
const otherClientSvid = svidFrom(exampleCa, 'spiffe://example.org/caller');

const servers: Array<Server | { close(): unknown }> = [];
after(() => servers.forEach((s) => s.close()));

/** One HTTP/1.1 request over mTLS with exactly the header lines given. */
function request(port: number, headerLines: string[], svid = clientSvid, path = '/'): Promise<{ status: number; body: string; headers: string }> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false, cert: svid.certificatesPem(), key: svid.privateKeyPem() }, () => {
      s.write([`GET ${path} HTTP/1.1`, 'Host: x', 'Connection: close', ...headerLines, '', ''].join('\r\n'));
    });
    let data = '';
    s.on('data', (d) => (data += d));
    s.on('end', () => {
      const [head, ...rest] = data.split('\r\n\r\n');
      resolve({ status: Number(/^HTTP\/1.1 (\d+)/.exec(head ?? '')?.[1] ?? 0), body: rest.join('\r\n\r\n'), headers: head ?? '' });
    });
    s.on('error', reject);
  });
}

async function listen(server: Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

async function expressService(jwtOptions: Parameters<typeof requireJwtSvid>[0]): Promise<number> {
  const app = express();
  app.get('/', requireSpiffeId(authorizeMemberOf('example.org')), requireJwtSvid(jwtOptions), (req, res) => {
    res.json({ peer: req.spiffeId?.toString(), sub: req.jwtSvid?.id.toString() });
  });
  return listen(createMtlsServer({ source: new MutableSource(serverSvid, exampleCa.bundle()), authorize: authorizeMemberOf('example.org') }, app));
}

test('Express: a valid JWT-SVID over mTLS passes; req.spiffeId and req.jwtSvid are set', async () => {
  const port = await expressService({ audience: AUD, bundles: jwtBundle });
  const res = await request(port, [`Authorization: Bearer ${await token()}`]);
  assert.equal(res.status, 200);
  assert.deepEqual(JSON.parse(res.body), { peer: 'spiffe://example.org/caller', sub: 'spiffe://example.org/caller' });
});

test('JWT hostile cases through the HTTP helpers', async () => {
  const port = await expressService({ audience: AUD, bundles: jwtBundle, replay: new JtiReplayCache({ maxEntries: 100 }) });
  const cases: Array<[string, string[], number, string]> = [];
  const replayed = await token({ jti: randomUUID() });
  assert.equal((await request(port, [`Authorization: Bearer ${replayed}`])).status, 200);
  cases.push(['replayed jti', [`Authorization: Bearer ${replayed}`], 401, 'ERR_WORKLOAD_JWT_REPLAYED']);
  const noJti = await token();
  assert.equal((await request(port, [`Authorization: Bearer ${noJti}`])).status, 200);
  cases.push(['the same token without jti, twice', [`Authorization: Bearer ${noJti}`], 401, 'ERR_WORKLOAD_JWT_REPLAYED']);
  cases.push(['a token bound to another certificate', [`Authorization: Bearer ${await token({ jti: randomUUID(), cnf: { 'x5t#S256': certificateThumbprint(otherClientSvid.certificates[0]!) } })}`], 401, 'ERR_WORKLOAD_JWT_CNF_MISMATCH']);
  cases.push(['two Authorization headers (one valid)', [`Authorization: Bearer ${await token({ jti: randomUUID() })}`, `Authorization: Bearer ${await token({ jti: randomUUID() })}`], 401, 'ERR_WORKLOAD_JWT_MULTIPLE_HEADERS']);
  cases.push(['a token for another audience', [`Authorization: Bearer ${await token({ jti: randomUUID(), aud: ['spiffe://example.org/other'] })}`], 401, 'ERR_WORKLOAD_JWT_INVALID']);
  cases.push(['a garbage token', ['Authorization: Bearer abc.def.ghi'], 401, 'ERR_WORKLOAD_JWT_INVALID']);
  cases.push(['a token signed by an unknown key', [`Authorization: Bearer ${await token({ jti: randomUUID() }, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey)}`], 401, 'ERR_WORKLOAD_JWT_INVALID']);
  cases.push(['an expired token', [`Authorization: Bearer ${await token({ jti: randomUUID(), iat: 1000, exp: 2000 })}`], 401, 'ERR_WORKLOAD_JWT_INVALID']);
  cases.push(['another scheme', [`Authorization: Basic dXNlcjpwYXNz`], 401, 'ERR_WORKLOAD_JWT_BAD_SCHEME']);
  cases.push(['no token', [], 401, 'ERR_WORKLOAD_JWT_MISSING']);
  for (const [name, lines, status, code] of cases) {
    const res = await request(port, lines);
    assert.equal(res.status, status, name);
    assert.equal(JSON.parse(res.body).code, code, name);
    if (status === 401) assert.match(res.headers, /www-authenticate: Bearer/i, name);
  }
  // a token bound to OUR certificate is accepted
  const bound = await token({ jti: randomUUID(), cnf: { 'x5t#S256': certificateThumbprint(clientSvid.certificates[0]!) } });
  assert.equal((await request(port, [`Authorization: Bearer ${bound}`])).status, 200);
});

test('allowMissing: no header passes, but a present-and-invalid token (or two headers) still fails', async () => {
  const port = await expressService({ audience: AUD, bundles: jwtBundle, allowMissing: true });
  assert.equal((await request(port, [])).status, 200);
  assert.equal((await request(port, ['Authorization: Bearer garbage'])).status, 401);
  assert.equal((await request(port, [`Authorization: Bearer ${await token()}`, 'Authorization: Bearer x'])).status, 401);
});

test('requireCertificateBinding refuses an unbound token; authorize refuses another subject with 403', async () => {
  const bindPort = await expressService({ audience: AUD, bundles: jwtBundle, requireCertificateBinding: true });
  assert.equal((await request(bindPort, [`Authorization: Bearer ${await token()}`])).status, 401);
  const authzPort = await expressService({ audience: AUD, bundles: jwtBundle, authorize: authorizeId('spiffe://example.org/someone-else') });
  assert.equal((await request(authzPort, [`Authorization: Bearer ${await token()}`])).status, 403);
});

test('requireSpiffeId answers 403 for an authenticated but unauthorized peer', async () => {
  const app = express();
  app.get('/', requireSpiffeId(authorizeId('spiffe://example.org/admin')), (_req, res) => res.send('secret'));
  const port = await listen(createMtlsServer({ source: new MutableSource(serverSvid, exampleCa.bundle()), authorize: authorizeMemberOf('example.org') }, app));
  const res = await request(port, []);
  assert.equal(res.status, 403);
  assert.equal(JSON.parse(res.body).code, 'ERR_WORKLOAD_PEER_UNAUTHORIZED');
});

test('Fastify: plugin + hooks on createMtlsServer (serverFactory)', async () => {
  let server: Server | undefined;
  const app = Fastify({
    serverFactory: (handler) => {
      server = createMtlsServer({ source: new MutableSource(serverSvid, exampleCa.bundle()), authorize: authorizeMemberOf('example.org') }, handler);
      return server;
    },
  });
  await app.register(meshwardFastify, { authorize: authorizeMemberOf('example.org') });
  app.get('/', { preHandler: requireJwtSvid({ audience: AUD, bundles: jwtBundle, replay: true }) }, async (request) => ({ peer: String(request.spiffeId), sub: String(request.jwtSvid?.id) }));
  app.get('/admin', { preHandler: requireSpiffeId(authorizeId('spiffe://example.org/admin')) }, async () => 'secret');
  await app.listen({ port: 0, host: '127.0.0.1' });
  servers.push(app);
  const port = (server!.address() as AddressInfo).port;
  const t = await token({ jti: randomUUID() });
  const ok = await request(port, [`Authorization: Bearer ${t}`]);
  assert.equal(ok.status, 200);
  assert.deepEqual(JSON.parse(ok.body), { peer: 'spiffe://example.org/caller', sub: 'spiffe://example.org/caller' });
  assert.equal((await request(port, [`Authorization: Bearer ${t}`])).status, 401); // replay
  assert.equal((await request(port, ['Authorization: Bearer nope'])).status, 401);
  assert.equal((await request(port, [], clientSvid, '/admin')).status, 403);
});

test('JwtBearer caches per audience until half the lifetime, then refetches', async () => {
  let fetches = 0;
  let ttl = 300;
  const source = {
    async fetchJwtSvid({ audience }: { audience: string | readonly string[] }) {
      fetches++;
      return JwtSvid.parseInsecure(await token({ aud: typeof audience === 'string' ? [audience] : [...audience] }, privateKey, ttl), audience);
    },
  };
  const bearer = new JwtBearer(source);
  const a = await bearer.header(AUD);
  assert.match(a, /^Bearer ey/);
  assert.equal(await bearer.header(AUD), a);
  await bearer.header('spiffe://example.org/other');
  assert.equal(fetches, 2);
  // a token whose half lifetime has already passed is refetched on next use
  ttl = 1;
  const b = new JwtBearer(source);
  await b.header(AUD);
  await new Promise((r) => setTimeout(r, 600));
  await b.header(AUD);
  assert.equal(fetches, 4);
});
