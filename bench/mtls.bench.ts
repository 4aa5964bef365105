/**
 * mTLS overhead of the SDK, one JSON line:
 * - requests/s through createMtlsServer vs a plain https.createServer with
 *   the same keys checking only the CA (keep-alive, same undici client);
 * - full mTLS handshakes/s: tlsServerOptions + protectTlsServer and a client
 *   doing the SPIFFE check, vs plain Node TLS (CA check only), same keys.
 * Client load runs in this process; phases alternate to spread noise.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, createSecureContext, createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { Agent, request } from 'undici';
import { initCaDirectory } from '../src/ca/index.js';
import { authorizeId } from '../src/spiffe/authorizers.js';
import { encodePem } from '../src/spiffe/pem.js';
import { X509Svid } from '../src/spiffe/x509/x509-svid.js';
import { createMtlsServer, protectTlsServer } from '../src/workload/mtls-server.js';
import { MtlsAgent } from '../src/workload/mtls-agent.js';
import { secureContextFor } from '../src/workload/secure-context-cache.js';
import { StaticX509Source } from '../src/workload/static-source.js';
import { tlsServerOptions } from '../src/workload/tls-options.js';
import { verifyTlsPeer } from '../src/workload/verify-peer.js';

const PHASE_MS = Number(process.env.PHASE_MS ?? 2000);
const ca = initCaDirectory({ dir: join(mkdtempSync(join(tmpdir(), 'mw-bench-')), 'ca'), trustDomain: 'example.org' });
function svid(id: string): X509Svid {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const m = ca.mintX509Svid({ spiffeId: id, publicKey, ttlSeconds: 3600 });
  return X509Svid.parse(m.chain.map((d) => encodePem('CERTIFICATE', d)).join(''), privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
}
const serverSvid = svid('spiffe://example.org/server');
const clientSvid = svid('spiffe://example.org/client');
const serverSource = new StaticX509Source(serverSvid, ca.bundle());
const clientSource = new StaticX509Source(clientSvid, ca.bundle());
const caPem = ca.bundle().toPem();
const allowClient = authorizeId('spiffe://example.org/client');
const allowServer = authorizeId('spiffe://example.org/server');

async function listen(server: { listen: (port: number, host: string, cb: () => void) => unknown; address: () => unknown }): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

async function requestsPerSecond(port: number, dispatcher: Agent): Promise<number> {
  const end = Date.now() + PHASE_MS;
  let n = 0;
  const start = Date.now();
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (Date.now() < end) {
        const res = await request(`https://127.0.0.1:${port}/`, { dispatcher });
        await res.body.text();
        n++;
      }
    }),
  );
  return (n * 1000) / (Date.now() - start);
}

async function handshakesPerSecond(port: number, connect: (port: number) => Promise<void>): Promise<number> {
  const end = Date.now() + PHASE_MS;
  let n = 0;
  const start = Date.now();
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (Date.now() < end) {
        await connect(port);
        n++;
      }
    }),
  );
  return (n * 1000) / (Date.now() - start);
}

const body = (_req: unknown, res: { end: (s: string) => void }) => res.end('ok');
const mtlsHttp = createMtlsServer({ source: serverSource, authorize: allowClient }, body);
const plainHttp = createHttpsServer({ cert: serverSvid.certificatesPem(), key: serverSvid.privateKeyPem(), ca: caPem, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.3' }, body);
const mtlsPort = await listen(mtlsHttp);
const plainPort = await listen(plainHttp);
const agentOptions = { connections: 8, keepAliveTimeout: 30_000 };
const mtlsAgent = new MtlsAgent({ source: clientSource, authorize: allowServer, agentOptions });
const plainAgent = new Agent({ ...agentOptions, connect: { cert: clientSvid.certificatesPem(), key: clientSvid.privateKeyPem(), ca: caPem, checkServerIdentity: () => undefined, minVersion: 'TLSv1.3' } });

const onData = (socket: import('node:tls').TLSSocket) => socket.end('x');
const mtlsTls: TlsServer = protectTlsServer(createTlsServer(tlsServerOptions(serverSource, allowClient), onData), { source: serverSource, authorize: allowClient });
const plainTls: TlsServer = createTlsServer({ cert: serverSvid.certificatesPem(), key: serverSvid.privateKeyPem(), ca: caPem, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.3' }, onData);
const mtlsTlsPort = await listen(mtlsTls);
const plainTlsPort = await listen(plainTls);
// the plain client reuses one secure context too, so only the verification differs
const plainClientContext = { secureContext: createSecureContext({ cert: clientSvid.certificatesPem(), key: clientSvid.privateKeyPem(), ca: caPem }) };

const mtlsConnect = (port: number) =>
  new Promise<void>((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port, secureContext: secureContextFor(clientSvid), rejectUnauthorized: false, minVersion: 'TLSv1.3' }, () => {
      verifyTlsPeer(s, clientSource, allowServer);
    });
    s.on('data', () => {});
    s.on('close', () => resolve());
    s.on('error', reject);
  });
const plainConnect = (port: number) =>
  new Promise<void>((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port, ...plainClientContext, checkServerIdentity: () => undefined, minVersion: 'TLSv1.3' });
    s.on('data', () => {});
    s.on('close', () => resolve());
    s.on('error', reject);
  });

// warm-up
await requestsPerSecond(mtlsPort, mtlsAgent);
await requestsPerSecond(plainPort, plainAgent);
const rps = { mtls: 0, plain: 0 };
const hs = { mtls: 0, plain: 0 };
for (let round = 0; round < 2; round++) {
  rps.plain += await requestsPerSecond(plainPort, plainAgent);
  rps.mtls += await requestsPerSecond(mtlsPort, mtlsAgent);
  hs.plain += await handshakesPerSecond(plainTlsPort, plainConnect);
  hs.mtls += await handshakesPerSecond(mtlsTlsPort, mtlsConnect);
}
const r = (x: number) => Math.round(x / 2);
console.log(
  JSON.stringify({
    bench: 'mtls',
    requestsPerSec: { createMtlsServer: r(rps.mtls), plainHttps: r(rps.plain), ratio: Number((rps.mtls / rps.plain).toFixed(3)), goal: 0.95 },
    handshakesPerSec: { spiffe: r(hs.mtls), plainTls: r(hs.plain), ratio: Number((hs.mtls / hs.plain).toFixed(3)), goal: 0.9 },
    node: process.version,
    phaseMs: PHASE_MS,
  }),
);
await mtlsAgent.close();
await plainAgent.close();
for (const s of [mtlsHttp, plainHttp, mtlsTls, plainTls]) s.close();
