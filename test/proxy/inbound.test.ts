/**
 * Inbound path, real processes and real TLS: the app and the proxy run as
 * child processes; clients are node:https with their own SVIDs.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect as h2connect } from 'node:http2';
import { after, before, describe, test } from 'node:test';
import { join } from 'node:path';
import { verifyAuditFile } from '../../src/audit/index.js';
import { TestPki, callMtls, callPlain, identityArgs, seenByApp, startApp, startProxyProcess, writePolicy, runProxyCli, sleep, type ProxyProc, type SvidFiles } from './helpers.js';

const POLICY = `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: payment-callers, namespace: shop }
spec:
  selector: { matchLabels: { app: payment } }
  action: ALLOW
  rules:
  - from: [{ source: { principals: ["example.org/order", "example.org/auth"] } }]
    to: [{ operation: { methods: ["POST", "GET", "HEAD"], paths: ["/payment/*", "/public/*"] } }]
`;

describe('inbound', () => {
  const pki = new TestPki();
  const payment = pki.svid('/payment');
  const order = pki.svid('/order');
  const compromised = pki.svid('/compromised');
  const other = new TestPki('other.org').svid('/order');
  let app: Awaited<ReturnType<typeof startApp>>;
  let proxy: ProxyProc;
  const auditFile = join(pki.dir, 'audit.jsonl');

  before(async () => {
    app = await startApp();
    const policy = writePolicy(pki.dir, 'policy.yaml', POLICY);
    proxy = await startProxyProcess([
      '--inbound', '127.0.0.1:0', '--app', `127.0.0.1:${app.port}`, '--policy', policy, '--namespace', 'shop', '--label', 'app=payment',
      '--audit-file', auditFile, '--metrics-bind', '127.0.0.1:0', ...identityArgs(payment),
    ]);
  });
  after(async () => {
    await proxy?.kill();
    await app?.kill();
  });

  test('an allowed call passes, with the verified peer ID and a request ID', async () => {
    const r = await callMtls(proxy.inboundPort, pki, { client: order, method: 'POST', path: '/payment/charge', body: '{}', headers: { 'content-type': 'application/json' } });
    assert.equal(r.status, 200, r.body);
    assert.equal(r.body, 'ok POST /payment/charge');
    const seen = (await seenByApp(app.port)).at(-1)!;
    assert.equal(seen.headers['x-meshward-peer-id'], order.id);
    assert.match(String(seen.headers['x-request-id']), /^[0-9a-f-]{36}$/);
    assert.match(String(seen.headers.traceparent), /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    // hop-by-hop headers from the app are not sent back
    assert.equal(r.headers['keep-alive'], undefined);
  });

  test('a wrong identity gets 403 and the app never sees it', async () => {
    const before = (await seenByApp(app.port)).length;
    const r = await callMtls(proxy.inboundPort, pki, { client: compromised, method: 'POST', path: '/payment/charge' });
    assert.equal(r.status, 403);
    assert.equal((await seenByApp(app.port)).length, before);
  });

  test('no client certificate: the connection is refused', async () => {
    await assert.rejects(callMtls(proxy.inboundPort, pki, { client: null, path: '/payment/x' }));
  });

  test('a certificate of another trust domain is refused at the TLS layer', async () => {
    await assert.rejects(callMtls(proxy.inboundPort, pki, { client: other, path: '/payment/x' }));
  });

  test('plaintext is refused in STRICT mode', async () => {
    await assert.rejects(callPlain(proxy.inboundPort, { path: '/payment/x' }));
  });

  test('a spoofed identity header and XFCC are stripped; hop-by-hop headers are not forwarded', async () => {
    const r = await callMtls(proxy.inboundPort, pki, {
      client: order,
      path: '/payment/spoof',
      headers: {
        'x-meshward-peer-id': 'spiffe://example.org/admin',
        'x-forwarded-client-cert': 'By=spiffe://example.org/admin',
        connection: 'keep-alive, x-secret-hop',
        'x-secret-hop': '1',
        'keep-alive': 'timeout=5',
        te: 'trailers',
        'proxy-authorization': 'Basic eA==',
        upgrade: 'websocket',
        'x-end-to-end': 'kept',
      },
    });
    assert.equal(r.status, 200);
    const seen = (await seenByApp(app.port)).at(-1)!;
    assert.equal(seen.url, '/payment/spoof');
    assert.equal(seen.headers['x-meshward-peer-id'], order.id);
    const names = seen.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
    assert.equal(names.filter((n) => n === 'x-meshward-peer-id').length, 1);
    for (const h of ['x-forwarded-client-cert', 'x-secret-hop', 'keep-alive', 'te', 'proxy-authorization', 'upgrade']) assert.ok(!names.includes(h), `${h} forwarded`);
    assert.equal(seen.headers['x-end-to-end'], 'kept');
  });

  test('normalization bypasses never reach the app un-normalized', async () => {
    const before = (await seenByApp(app.port)).length;
    // dot segments: /public/../admin → /admin, which the policy does not allow
    assert.equal((await callMtls(proxy.inboundPort, pki, { client: order, path: '/public/../admin' })).status, 403);
    assert.equal((await callMtls(proxy.inboundPort, pki, { client: order, path: '/payment/%2e%2e/admin' })).status, 403);
    // escaped slash: refused
    assert.equal((await callMtls(proxy.inboundPort, pki, { client: order, path: '/payment%2F..%2Fadmin' })).status, 400);
    // merged slashes: //admin → /admin
    assert.equal((await callMtls(proxy.inboundPort, pki, { client: order, path: '//admin' })).status, 403);
    assert.equal((await callMtls(proxy.inboundPort, pki, { client: order, path: '/payment/%00' })).status, 400);
    assert.equal((await seenByApp(app.port)).length, before);
    // allowed after normalization: the app gets the normalized path
    const r = await callMtls(proxy.inboundPort, pki, { client: order, path: '/public/x/..//payment/../payment/ok?q=1' });
    assert.equal(r.status, 200); // /public/payment/ok matches /public/*
    assert.equal((await seenByApp(app.port)).at(-1)!.url, '/public/payment/ok?q=1');
  });

  test('app responses with a length pass whole: small ones gathered, large ones streamed, HEAD without a body', async () => {
    for (const size of [0, 1, 65_536, 65_537, 300_000]) {
      const r = await callMtls(proxy.inboundPort, pki, { client: order, path: `/payment/sized/${size}` });
      assert.equal(r.status, 200);
      assert.equal(r.headers['content-length'], String(size));
      assert.equal(r.body, Buffer.alloc(size, 'meshward-').toString('utf8'), `body of ${size} bytes`);
    }
    const head = await callMtls(proxy.inboundPort, pki, { client: order, method: 'HEAD', path: '/payment/sized/1000' });
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], '1000');
    assert.equal(head.body, '');
  });

  test('an app answer shorter than its content-length is a 502, never a truncated 200', async () => {
    const r = await callMtls(proxy.inboundPort, pki, { client: order, path: '/payment/short' });
    assert.equal(r.status, 502);
    assert.doesNotMatch(r.body, /short/);
    // the proxy and its pool still serve the next request
    assert.equal((await callMtls(proxy.inboundPort, pki, { client: order, path: '/payment/sized/3' })).status, 200);
  });

  test('a chunked request body reaches the app whole', async () => {
    const body = JSON.stringify({ items: Array.from({ length: 2000 }, (_, i) => i) });
    const r = await callMtls(proxy.inboundPort, pki, { client: order, method: 'POST', path: '/payment/chunked', body, headers: { 'transfer-encoding': 'chunked', 'content-type': 'application/json' } });
    assert.equal(r.status, 200);
    const seen = (await seenByApp(app.port)).at(-1)!;
    assert.equal(seen.url, '/payment/chunked');
    assert.equal(seen.body, body);
  });

  test('an allowed path is forwarded normalized', async () => {
    const r = await callMtls(proxy.inboundPort, pki, { client: order, path: '/payment//a/./b/../c?x=1' });
    assert.equal(r.status, 200);
    assert.equal((await seenByApp(app.port)).at(-1)!.url, '/payment/a/c?x=1');
  });

  test('HTTP/2 (ALPN h2) is served with the same checks', async () => {
    const session = h2connect(`https://127.0.0.1:${proxy.inboundPort}`, { cert: order.certPem, key: order.keyPem, ca: pki.bundlePem(), checkServerIdentity: () => undefined });
    const get = (path: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const s = session.request({ ':path': path, ':method': 'GET', 'x-meshward-peer-id': 'spiffe://example.org/admin' });
        let status = 0;
        let body = '';
        s.on('response', (h) => (status = Number(h[':status'])));
        s.on('data', (c: Buffer) => (body += c.toString()));
        s.on('end', () => resolve({ status, body }));
        s.on('error', reject);
        s.end();
      });
    assert.equal((await get('/payment/h2')).status, 200);
    assert.equal((await get('/admin')).status, 403);
    session.close();
    const seen = (await seenByApp(app.port)).at(-1)!;
    assert.equal(seen.url, '/payment/h2');
    assert.equal(seen.headers['x-meshward-peer-id'], order.id);
  });

  test('metrics are served on the separate port', async () => {
    const r = await callPlain(proxy.metricsPort!, { path: '/metrics' });
    assert.equal(r.status, 200);
    assert.match(r.body, /meshward_proxy_requests_total\{[^}]*decision="deny"/);
    assert.match(r.body, /meshward_proxy_authn_failures_total/);
    assert.match(r.body, /meshward_svid_expiry_seconds \d/);
  });

  test('the audit chain verifies, holds both paths, and a tampered file fails', async () => {
    await sleep(300); // allowed records are flushed every 100 ms
    const result = await verifyAuditFile(auditFile);
    assert.equal(result.ok, true, JSON.stringify(result));
    const lines = readFileSync(auditFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const bypass = lines.find((l) => l.path === '/public/../admin');
    assert.ok(bypass);
    assert.equal(bypass.normalizedPath, '/admin');
    assert.equal(bypass.decision, 'deny');
    assert.equal(bypass.caller, order.id);
    const allowed = lines.find((l) => l.path === '/payment/charge');
    assert.equal(allowed.decision, 'allow');
    assert.equal(allowed.status, 200);
    assert.ok(lines.some((l) => l.reason?.includes('authentication failed')));
    const copy = join(pki.dir, 'tampered.jsonl');
    writeFileSync(copy, readFileSync(auditFile, 'utf8').replace('/payment/charge', '/payment/chargf'));
    assert.equal((await verifyAuditFile(copy)).ok, false);
  });
});

describe('config', () => {
  test('invalid configuration exits 2 naming the key', async () => {
    const r = await runProxyCli(['--inbound', '127.0.0.1:99999', '--app', '127.0.0.1:8080', '--svid-cert', 'x', '--svid-key', 'y', '--svid-bundle', 'z']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /inbound\.listen/);
    const r2 = await runProxyCli(['--inbound', '127.0.0.1:1', '--app', '127.0.0.1:2', '--outbound', 'nonsense', '--svid-cert', 'x', '--svid-key', 'y', '--svid-bundle', 'z']);
    assert.equal(r2.code, 2);
    assert.match(r2.stderr, /--outbound/);
  });
});
