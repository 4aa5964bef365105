import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:https';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { fetch } from 'undici';
import { initCaDirectory, type CertificateAuthority } from '../../src/ca/index.js';
import { authorizeId, authorizeMemberOf } from '../../src/spiffe/authorizers.js';
import { encodePem } from '../../src/spiffe/pem.js';
import { X509Svid } from '../../src/spiffe/x509/x509-svid.js';
import { MtlsAgent } from '../../src/workload/mtls-agent.js';
import { StaticX509Source } from '../../src/workload/static-source.js';
import { verifyTlsPeer } from '../../src/workload/verify-peer.js';

const exampleCa = initCaDirectory({ dir: join(mkdtempSync(join(tmpdir(), 'mw-mtls-')), 'ca'), trustDomain: 'example.org' });
const otherCa = initCaDirectory({ dir: join(mkdtempSync(join(tmpdir(), 'mw-mtls-')), 'ca'), trustDomain: 'other.org' });

function svidFrom(ca: CertificateAuthority, id: string, ttlSeconds = 600, now?: Date): X509Svid {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const minted = ca.mintX509Svid({ spiffeId: id, publicKey, ttlSeconds, now });
  return X509Svid.parse(minted.chain.map((d) => encodePem('CERTIFICATE', d)).join(''), privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
}

const servers: Server[] = [];
after(() => servers.forEach((s) => s.close()));

/** A TLS server presenting `svid`, answering with the client's verified SPIFFE ID. */
async function startServer(svid: X509Svid): Promise<string> {
  const server = createServer({ cert: svid.certificatesPem(), key: svid.privateKeyPem(), requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.3' }, (req, res) => {
    try {
      const id = verifyTlsPeer(req.socket as TLSSocket, exampleCa.bundle(), authorizeMemberOf('example.org'));
      res.end(id.toString());
    } catch (err) {
      res.statusCode = 403;
      res.end((err as Error).message);
    }
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

const clientSvid = svidFrom(exampleCa, 'spiffe://example.org/client');

test('mTLS through the real undici Agent: the server ID is authorized, the server sees ours', async () => {
  const url = await startServer(svidFrom(exampleCa, 'spiffe://example.org/api'));
  const dispatcher = new MtlsAgent({ source: new StaticX509Source(clientSvid, exampleCa.bundle()), authorize: authorizeId('spiffe://example.org/api') });
  const res = await fetch(url, { dispatcher });
  assert.equal(res.status, 200);
  assert.equal(await res.text(), 'spiffe://example.org/client');
  await dispatcher.close();
});

test('a server with the wrong SPIFFE ID is refused before any request is sent', async () => {
  const url = await startServer(svidFrom(exampleCa, 'spiffe://example.org/impostor'));
  const dispatcher = new MtlsAgent({ source: new StaticX509Source(clientSvid, exampleCa.bundle()), authorize: authorizeId('spiffe://example.org/api') });
  await assert.rejects(fetch(url, { dispatcher }), (err: Error) => /not authorized/.test(String((err.cause as Error)?.message ?? err.message)));
  await dispatcher.close();
});

test('a server from an untrusted trust domain is refused even if the authorizer would allow it', async () => {
  const url = await startServer(svidFrom(otherCa, 'spiffe://other.org/api'));
  const dispatcher = new MtlsAgent({ source: new StaticX509Source(clientSvid, exampleCa.bundle()), authorize: () => true });
  await assert.rejects(fetch(url, { dispatcher }), (err: Error) => /not valid/.test(String((err.cause as Error)?.message ?? err.message)));
  await dispatcher.close();
});

test('an expired server SVID is refused', async () => {
  const old = new Date(Date.now() - 3 * 3600_000);
  const expired = svidFrom(exampleCa, 'spiffe://example.org/api', 60, old);
  const url = await startServer(expired);
  const dispatcher = new MtlsAgent({ source: new StaticX509Source(clientSvid, exampleCa.bundle()), authorize: authorizeId('spiffe://example.org/api') });
  await assert.rejects(fetch(url, { dispatcher }), (err: Error) => /expired|not valid/.test(String((err.cause as Error)?.message ?? err.message)));
  await dispatcher.close();
});

test('every new connection presents the source’s current SVID (rotation without restart)', async () => {
  const url = await startServer(svidFrom(exampleCa, 'spiffe://example.org/api'));
  let current = svidFrom(exampleCa, 'spiffe://example.org/first');
  const source = { getX509Svid: () => current, getX509BundleForTrustDomain: (td: Parameters<ReturnType<typeof exampleCa.bundle>['getX509BundleForTrustDomain']>[0]) => exampleCa.bundle().getX509BundleForTrustDomain(td) };
  const first = new MtlsAgent({ source, authorize: authorizeId('spiffe://example.org/api') });
  assert.equal(await (await fetch(url, { dispatcher: first })).text(), 'spiffe://example.org/first');
  current = svidFrom(exampleCa, 'spiffe://example.org/second');
  const second = new MtlsAgent({ source, authorize: authorizeId('spiffe://example.org/api') });
  assert.equal(await (await fetch(url, { dispatcher: second })).text(), 'spiffe://example.org/second');
  await first.close();
  await second.close();
});

test('MtlsAgent requires an authorizer', () => {
  assert.throws(() => new MtlsAgent({ source: new StaticX509Source(clientSvid, exampleCa.bundle()), authorize: undefined as never }), TypeError);
});
