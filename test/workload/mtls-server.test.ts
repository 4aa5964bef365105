import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { connect as http2Connect, type Http2SecureServer } from 'node:http2';
import type { Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fetch } from 'undici';
import { authorizeId, authorizeMemberOf } from '../../src/spiffe/authorizers.js';
import { createMtlsServer } from '../../src/workload/mtls-server.js';
import { MtlsAgent } from '../../src/workload/mtls-agent.js';
import { StaticX509Source } from '../../src/workload/static-source.js';
import { tlsClientOptions } from '../../src/workload/tls-options.js';
import { createTestCa, KeyUsage } from '../helpers/test-ca.js';
import { exampleCa, otherCa, svidFrom, MutableSource, newCa } from './fixtures.js';

const servers: Array<Server | Http2SecureServer> = [];
after(() => servers.forEach((s) => { s.close(); (s as { closeAllConnections?: () => void }).closeAllConnections?.(); }));

const serverSvid = svidFrom(exampleCa, 'spiffe://example.org/api');
const clientSvid = svidFrom(exampleCa, 'spiffe://example.org/client');

async function listen<S extends Server | Http2SecureServer>(server: S): Promise<{ server: S; port: number; url: string }> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return { server, port, url: `https://127.0.0.1:${port}/` };
}

async function startEchoServer(source = new MutableSource(serverSvid, exampleCa.bundle()), authorize = authorizeId('spiffe://example.org/client')) {
  const rejected: Error[] = [];
  const server = createMtlsServer({ source, authorize }, (req: IncomingMessage, res: ServerResponse) => res.end(req.spiffeId?.toString()));
  server.on('spiffePeerRejected', (err: Error) => rejected.push(err));
  return { ...(await listen(server)), source, rejected };
}

/** Connects with raw TLS options (an attacker's view) and resolves with what happened. */
function rawAttempt(port: number, options: Record<string, unknown>): Promise<{ ok: boolean; body?: string; reused?: boolean; session?: Buffer }> {
  return new Promise((resolve) => {
    let session: Buffer | undefined;
    const socket: TLSSocket = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false, minVersion: 'TLSv1.3', ...options });
    socket.on('session', (s) => (session = s));
    let body = '';
    socket.once('secureConnect', () => {
      const reused = socket.isSessionReused();
      socket.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      socket.on('data', (d) => (body += d.toString()));
      socket.on('end', () => resolve({ ok: /^HTTP\/1.1 200/.test(body), body, reused, session }));
      socket.on('close', () => resolve({ ok: /^HTTP\/1.1 200/.test(body), body, reused, session }));
    });
    socket.on('error', () => resolve({ ok: false, body, session }));
  });
}

test('the authorized client ID is accepted and reaches the handler as req.spiffeId', async () => {
  const { url } = await startEchoServer();
  const dispatcher = new MtlsAgent({ source: new StaticX509Source(clientSvid, exampleCa.bundle()), authorize: authorizeId('spiffe://example.org/api') });
  const res = await fetch(url, { dispatcher });
  assert.equal(res.status, 200);
  assert.equal(await res.text(), 'spiffe://example.org/client');
  await dispatcher.close();
});

for (const [name, make] of [
  ['a wrong SPIFFE ID', () => svidFrom(exampleCa, 'spiffe://example.org/intruder')],
  ['a wrong trust domain', () => svidFrom(otherCa, 'spiffe://other.org/client')],
  ['a forged CA with the right trust domain name', () => svidFrom(newCa('example.org'), 'spiffe://example.org/client')],
  ['an expired SVID', () => svidFrom(exampleCa, 'spiffe://example.org/client', 60, new Date(Date.now() - 3 * 3600_000))],
] as const) {
  test(`the server refuses ${name} at the handshake stage (connection closed, no HTTP answer)`, async () => {
    const { url, rejected } = await startEchoServer(undefined, authorizeId('spiffe://example.org/client'));
    // the client trusts both trust domains so that only the server decides
    const dispatcher = new MtlsAgent({ source: new MutableSource(make(), exampleCa.bundle(), otherCa.bundle()), authorize: authorizeId('spiffe://example.org/api') });
    await assert.rejects(fetch(url, { dispatcher }));
    assert.equal(rejected.length, 1);
    await dispatcher.close();
  });
}

test('a self-signed client certificate and no certificate at all are refused', async () => {
  const { port, rejected } = await startEchoServer();
  const selfSigned = await createTestCa('example.org', { isCa: false, uris: ['spiffe://example.org/client'], keyUsage: KeyUsage.digitalSignature });
  assert.equal((await rawAttempt(port, { cert: selfSigned.cert.pem, key: selfSigned.cert.privateKeyPem })).ok, false);
  assert.equal((await rawAttempt(port, {})).ok, false);
  assert.equal(rejected.length, 2);
  assert.deepEqual(rejected.map((e) => (e as Error & { code: string }).code), ['ERR_PEER_INVALID_SVID', 'ERR_PEER_NO_CERTIFICATE']);
  // and the same client with a good SVID gets through
  assert.equal((await rawAttempt(port, { cert: clientSvid.certificatesPem(), key: clientSvid.privateKeyPem() })).ok, true);
});

test('resumption: the server never resumes, so a saved session cannot skip verification after the bundle changed', async () => {
  const { port, source, rejected } = await startEchoServer();
  const creds = { cert: clientSvid.certificatesPem(), key: clientSvid.privateKeyPem() };
  const first = await rawAttempt(port, creds);
  assert.equal(first.ok, true);
  // Whatever the client saved (a TLS 1.3 ticket, if any was sent), offering it is not honoured…
  if (first.session) {
    const again = await rawAttempt(port, { ...creds, session: first.session });
    assert.equal(again.ok, true);
    assert.equal(again.reused, false);
  }
  // …and once the bundle no longer trusts the client's CA, the same client (offering its old session) is refused.
  source.setBundles(otherCa.bundle());
  const after = await rawAttempt(port, { ...creds, ...(first.session ? { session: first.session } : {}) });
  assert.equal(after.ok, false);
  assert.equal(rejected.at(-1)?.message.includes('not valid'), true);
  // TLS 1.2 too: no session ID resumption, no tickets
  const tls12 = await startEchoServer(new MutableSource(serverSvid, exampleCa.bundle()));
  tls12.server.setSecureContext({ cert: serverSvid.certificatesPem(), key: serverSvid.privateKeyPem(), minVersion: 'TLSv1.2', secureOptions: (await import('../../src/workload/tls-options.js')).MTLS_SECURE_OPTIONS });
  const a = await rawAttempt(tls12.port, { ...creds, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' });
  assert.equal(a.ok, true);
  if (a.session) {
    const b = await rawAttempt(tls12.port, { ...creds, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', session: a.session });
    assert.equal(b.reused, false);
  }
});

test('MtlsAgent re-verifies every new connection: after its bundle changes, a server it trusted before is refused', async () => {
  const { url } = await startEchoServer();
  const source = new MutableSource(clientSvid, exampleCa.bundle());
  const dispatcher = new MtlsAgent({ source, authorize: authorizeId('spiffe://example.org/api'), agentOptions: { pipelining: 0, keepAliveTimeout: 1 } });
  assert.equal((await fetch(url, { dispatcher, headers: { connection: 'close' } })).status, 200);
  source.setBundles(otherCa.bundle());
  await assert.rejects(fetch(url, { dispatcher, headers: { connection: 'close' } }), (err: Error) => /not valid/.test(String((err.cause as Error)?.message)));
  await dispatcher.close();
});

test('tlsClientOptions: tls.connect verifies the server SPIFFE ID (no hostname check) and refuses a wrong one', async () => {
  const { port } = await startEchoServer();
  const source = new StaticX509Source(clientSvid, exampleCa.bundle());
  const ok = await new Promise<boolean>((resolve) => {
    const s = tlsConnect({ ...tlsClientOptions(source, authorizeId('spiffe://example.org/api')), host: '127.0.0.1', port }, () => resolve(s.authorized));
    s.on('error', () => resolve(false));
  });
  assert.equal(ok, true);
  const err = await new Promise<Error | undefined>((resolve) => {
    const s = tlsConnect({ ...tlsClientOptions(source, authorizeId('spiffe://example.org/other')), host: '127.0.0.1', port }, () => resolve(undefined));
    s.on('error', resolve);
  });
  assert.match(String(err?.message), /not authorized/);
});

test('HTTP/2: createMtlsServer({ http2: true }) with an http2 client built from tlsClientOptions', async () => {
  const source = new MutableSource(serverSvid, exampleCa.bundle());
  const { port } = await listen(createMtlsServer({ source, authorize: authorizeMemberOf('example.org'), http2: true }, (req, res) => res.end(req.spiffeId.toString())));
  const session = http2Connect(`https://127.0.0.1:${port}`, { ...tlsClientOptions(new StaticX509Source(clientSvid, exampleCa.bundle()), authorizeId('spiffe://example.org/api')) });
  const body = await new Promise<string>((resolve, reject) => {
    const req = session.request({ ':path': '/' });
    let data = '';
    req.on('data', (d) => (data += d));
    req.on('end', () => resolve(data));
    req.on('error', reject);
  });
  session.close();
  assert.equal(body, 'spiffe://example.org/client');
});

test('rotation under load: server and client SVIDs rotate many times, zero failed requests', async () => {
  const serverSource = new MutableSource(serverSvid, exampleCa.bundle());
  const { url } = await startEchoServer(serverSource, authorizeMemberOf('example.org'));
  const clientSource = new MutableSource(clientSvid, exampleCa.bundle());
  // short keep-alive so that new connections (and new handshakes) keep happening during the rotations
  const dispatcher = new MtlsAgent({ source: clientSource, authorize: authorizeId('spiffe://example.org/api'), agentOptions: { connections: 8, keepAliveTimeout: 5, keepAliveMaxTimeout: 5 } });
  let stop = false;
  let ok = 0;
  const failures: unknown[] = [];
  const seen = new Set<string>();
  let n = 0;
  const worker = async () => {
    while (!stop) {
      try {
        // every third request closes its connection, so new handshakes keep happening during the rotations
        const res = await fetch(url, { dispatcher, headers: ++n % 3 === 0 ? { connection: 'close' } : {} });
        const text = await res.text();
        if (res.status === 200) {
          ok++;
          seen.add(text);
        } else failures.push(res.status);
      } catch (err) {
        failures.push(err);
      }
    }
  };
  const workers = Array.from({ length: 16 }, worker);
  const fresh = Array.from({ length: 10 }, (_, i) => [svidFrom(exampleCa, 'spiffe://example.org/api'), svidFrom(exampleCa, `spiffe://example.org/client-${i}`)] as const);
  for (const [s, c] of fresh) {
    await new Promise((r) => setTimeout(r, 60));
    serverSource.rotate(s);
    clientSource.rotate(c);
  }
  // keep the load on until enough requests went through (no assertion on time)
  while (ok < 100 && failures.length === 0) await new Promise((r) => setTimeout(r, 20));
  stop = true;
  await Promise.all(workers);
  await dispatcher.close();
  assert.deepEqual(failures, []);
  assert.ok(ok > 100, `only ${ok} requests`);
  assert.ok(seen.size >= 5, `new connections presented the rotated client SVIDs (${seen.size} seen)`);
});

test('control: the resumption probe does detect resumption on a server without our options', async () => {
  const { createServer } = await import('node:https');
  const plain = createServer({ cert: serverSvid.certificatesPem(), key: serverSvid.privateKeyPem(), requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.3' }, (_q, r) => r.end('x'));
  const { port } = await listen(plain);
  const creds = { cert: clientSvid.certificatesPem(), key: clientSvid.privateKeyPem() };
  const first = await rawAttempt(port, creds);
  assert.ok(first.session);
  assert.equal((await rawAttempt(port, { ...creds, session: first.session })).reused, true);
});
