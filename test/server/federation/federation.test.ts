import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { request } from 'undici';
import { Bundle } from '../../../src/spiffe/bundle.js';
import { RelationshipPoller, startBundleEndpoint, startFederation } from '../../../src/server/federation/index.js';
import type { FederationRelationship } from '../../../src/server/federation/index.js';
import { webDispatcher } from '../../../src/server/federation/fetch-bundle.js';
import { createTestContext, tempDir, type TestContext } from '../helpers/context.js';
import { createTestCa } from '../../helpers/test-ca.js';
import { FakeTimers, until } from './helpers.js';

interface Pair {
  a: TestContext;
  b: TestContext;
  dir: string;
}

async function twoDomains(t: { after(fn: () => unknown): void }): Promise<Pair> {
  const a = await createTestContext(t, { trustDomain: 'a.test' });
  const b = await createTestContext(t, { trustDomain: 'b.test' });
  return { a, b, dir: tempDir(t) };
}

function spiffeRel(url: string, over: Partial<FederationRelationship> = {}): FederationRelationship {
  return { trustDomain: 'b.test', bundleEndpointUrl: url, profile: 'https_spiffe', endpointSpiffeId: 'spiffe://b.test/meshward/server', ...over };
}

test('https_spiffe: A fetches B\'s bundle from B\'s endpoint, bootstrapped by an initial bundle, then trusts what it fetched', async (t) => {
  const { a, b, dir } = await twoDomains(t);
  const endpoint = await startBundleEndpoint(b.ctx, { port: 0, profile: 'https_spiffe', refreshHint: 120 }, new FakeTimers());
  t.after(() => endpoint.close());
  const initial = join(dir, 'b-bundle.json');
  writeFileSync(initial, JSON.stringify(b.ca.bundle().toJSON()));

  const timers = new FakeTimers();
  const poller = new RelationshipPoller(a.ctx, spiffeRel(`https://127.0.0.1:${endpoint.port}/`, { initialBundleFile: initial }), { timers });
  t.after(() => poller.close());
  const first = await poller.refresh();
  assert.equal(first.status, 'stored', JSON.stringify(first));
  const stored = await a.store.getBundle('b.test');
  assert.ok(stored);
  const bundle = Bundle.parse(stored.document, 'b.test');
  assert.equal(bundle.refreshHint, 120);
  assert.equal(stored.sequence, b.ca.bundle().sequence);
  assert.deepEqual(bundle.x509Authorities(), b.ca.bundle().x509Authorities());
  assert.equal(first.nextRefreshSeconds, 120, 'the refresh hint sets the next poll');

  const second = await poller.refresh();
  assert.equal(second.status, 'unchanged', 'an unchanged bundle is not written again');
  assert.equal((await a.store.getBundle('b.test'))!.updatedAt, stored.updatedAt);
  assert.equal(await a.store.getBundle('a.test'), null, 'trust domains are never merged');
});

test('https_spiffe: a wrong endpoint SPIFFE ID is refused and nothing is stored', async (t) => {
  const { a, b, dir } = await twoDomains(t);
  const endpoint = await startBundleEndpoint(b.ctx, { port: 0, profile: 'https_spiffe' }, new FakeTimers());
  t.after(() => endpoint.close());
  const initial = join(dir, 'b.pem');
  writeFileSync(initial, b.ca.bundle().toPem());
  const poller = new RelationshipPoller(a.ctx, spiffeRel(`https://127.0.0.1:${endpoint.port}/`, { initialBundleFile: initial, endpointSpiffeId: 'spiffe://b.test/other-server' }), { timers: new FakeTimers() });
  t.after(() => poller.close());
  const outcome = await poller.refresh();
  assert.equal(outcome.status, 'failed');
  assert.equal(outcome.status === 'failed' && outcome.error.code, 'ERR_FEDERATION_PEER_IDENTITY');
  assert.equal(await a.store.getBundle('b.test'), null);
});

test('https_spiffe: an endpoint whose SVID does not chain to the trusted bundle is refused; without any bundle, nothing is fetched', async (t) => {
  const { a, b, dir } = await twoDomains(t);
  const impostor = await createTestContext(t, { trustDomain: 'b.test' });
  const endpoint = await startBundleEndpoint(impostor.ctx, { port: 0, profile: 'https_spiffe' }, new FakeTimers());
  t.after(() => endpoint.close());
  const initial = join(dir, 'b-bundle.json');
  writeFileSync(initial, JSON.stringify(b.ca.bundle().toJSON()));
  const url = `https://127.0.0.1:${endpoint.port}/`;
  const poller = new RelationshipPoller(a.ctx, spiffeRel(url, { initialBundleFile: initial }), { timers: new FakeTimers() });
  t.after(() => poller.close());
  const outcome = await poller.refresh();
  assert.equal(outcome.status === 'failed' && outcome.error.code, 'ERR_FEDERATION_PEER_IDENTITY');

  const noTrust = new RelationshipPoller(a.ctx, spiffeRel(url), { timers: new FakeTimers() });
  t.after(() => noTrust.close());
  const none = await noTrust.refresh();
  assert.equal(none.status === 'failed' && none.error.code, 'ERR_FEDERATION_NO_TRUST');
  assert.equal(await a.store.getBundle('b.test'), null);
});

test('https_web: a certificate from a CA given as ca_file is accepted; the host name must match', async (t) => {
  const { a, b, dir } = await twoDomains(t);
  const webCa = await createTestCa('web-ca.test');
  const leaf = await webCa.issue(undefined, { dnsNames: ['localhost'], subject: 'CN=localhost' });
  writeFileSync(join(dir, 'web.pem'), leaf.chainPem);
  writeFileSync(join(dir, 'web.key'), leaf.privateKeyPem, { mode: 0o600 });
  writeFileSync(join(dir, 'ca.pem'), webCa.cert.pem);
  const endpoint = await startBundleEndpoint(b.ctx, { port: 0, profile: 'https_web', certFile: join(dir, 'web.pem'), keyFile: join(dir, 'web.key') }, new FakeTimers());
  t.after(() => endpoint.close());

  const rel: FederationRelationship = { trustDomain: 'b.test', bundleEndpointUrl: `https://localhost:${endpoint.port}/`, profile: 'https_web', caFile: join(dir, 'ca.pem') };
  const poller = new RelationshipPoller(a.ctx, rel, { timers: new FakeTimers() });
  t.after(() => poller.close());
  const outcome = await poller.refresh();
  assert.equal(outcome.status, 'stored', JSON.stringify(outcome));
  assert.ok(Bundle.parse((await a.store.getBundle('b.test'))!.document, 'b.test').jwtAuthorities().size > 0);

  const wrongHost = new RelationshipPoller(a.ctx, { ...rel, trustDomain: 'c.test', bundleEndpointUrl: `https://127.0.0.1:${endpoint.port}/` }, { timers: new FakeTimers() });
  t.after(() => wrongHost.close());
  assert.equal((await wrongHost.refresh()).status, 'failed', 'the certificate names localhost, not 127.0.0.1');
  const publicRoots = new RelationshipPoller(a.ctx, { ...rel, trustDomain: 'd.test', caFile: undefined }, { timers: new FakeTimers() });
  t.after(() => publicRoots.close());
  assert.equal((await publicRoots.refresh()).status, 'failed', 'the test CA is not a public root');
  assert.equal(await a.store.getBundle('c.test'), null);
  assert.equal(await a.store.getBundle('d.test'), null);
});

test('the bundle endpoint answers GET / only: 405 for other methods, 404 for other paths', async (t) => {
  const { b, dir } = await twoDomains(t);
  const webCa = await createTestCa('web-ca.test');
  const leaf = await webCa.issue(undefined, { dnsNames: ['localhost'] });
  writeFileSync(join(dir, 'web.pem'), leaf.chainPem);
  writeFileSync(join(dir, 'web.key'), leaf.privateKeyPem);
  const endpoint = await startBundleEndpoint(b.ctx, { port: 0, profile: 'https_web', certFile: join(dir, 'web.pem'), keyFile: join(dir, 'web.key') }, new FakeTimers());
  t.after(() => endpoint.close());
  const dispatcher = webDispatcher(webCa.cert.pem);
  t.after(() => dispatcher.close());
  const base = `https://localhost:${endpoint.port}`;
  const ok = await request(`${base}/`, { dispatcher });
  assert.equal(ok.statusCode, 200);
  assert.equal(ok.headers['content-type'], 'application/json');
  const doc = await ok.body.text();
  assert.equal(Bundle.parse(doc, 'b.test').refreshHint, 300, 'default refresh hint');
  const post = await request(`${base}/`, { dispatcher, method: 'POST', body: '{}' });
  assert.equal(post.statusCode, 405);
  assert.equal(post.headers.allow, 'GET');
  await post.body.dump();
  const other = await request(`${base}/bundle`, { dispatcher });
  assert.equal(other.statusCode, 404);
  await other.body.dump();
});

test('the refresh hint is honoured (floored at 30 s), failures retry at the next interval', async (t) => {
  const { a, b, dir } = await twoDomains(t);
  const initial = join(dir, 'b.json');
  writeFileSync(initial, JSON.stringify(b.ca.bundle().toJSON()));
  const endpoint = await startBundleEndpoint(b.ctx, { port: 0, profile: 'https_spiffe', refreshHint: 5 }, new FakeTimers());
  const timers = new FakeTimers();
  const fed = await startFederation(a.ctx, { federatesWith: [spiffeRel(`https://127.0.0.1:${endpoint.port}/`, { initialBundleFile: initial })] }, { timers });
  t.after(() => fed.close());
  assert.deepEqual(timers.delays(), [0], 'the first fetch is immediate');
  timers.fireAll();
  await until(async () => (await a.store.getBundle('b.test')) !== null && timers.pending.size === 1, 'the first fetch');
  assert.deepEqual(timers.delays(), [30_000], 'a 5 s hint is floored at 30 s');

  await endpoint.close();
  timers.fireAll();
  await until(() => timers.pending.size === 1, 'the failed fetch to be rescheduled');
  assert.deepEqual(timers.delays(), [30_000], 'a failure retries at the same interval, not sooner');
});

test('a bundle without a refresh hint is polled every 5 minutes; oversized and non-https answers are refused', async (t) => {
  const { a, b, dir } = await twoDomains(t);
  const webCa = await createTestCa('web-ca.test');
  const leaf = await webCa.issue(undefined, { dnsNames: ['localhost'] });
  writeFileSync(join(dir, 'ca.pem'), webCa.cert.pem);
  const noHint = JSON.stringify(b.ca.bundle().with({ refreshHint: undefined }).toJSON());
  let mode: 'plain' | 'huge' | 'redirect' = 'plain';
  const server = createServer({ cert: leaf.chainPem, key: leaf.privateKeyPem }, (req, res) => {
    if (mode === 'huge') res.writeHead(200, { 'content-type': 'application/json' }).end(Buffer.alloc(2 * 1024 * 1024, 0x20));
    else if (mode === 'redirect') res.writeHead(302, { location: 'http://localhost/' }).end();
    else res.writeHead(200, { 'content-type': 'application/json' }).end(noHint);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => { server.close(() => r()); server.closeAllConnections(); }));
  const port = (server.address() as AddressInfo).port;
  const poller = new RelationshipPoller(a.ctx, { trustDomain: 'b.test', bundleEndpointUrl: `https://localhost:${port}/`, profile: 'https_web', caFile: join(dir, 'ca.pem') }, { timers: new FakeTimers() });
  t.after(() => poller.close());
  const plain = await poller.refresh();
  assert.equal(plain.status, 'stored');
  assert.equal(plain.nextRefreshSeconds, 300);
  await a.store.deleteBundle('b.test', 1);
  mode = 'huge';
  const huge = await poller.refresh();
  assert.equal(huge.status === 'failed' && huge.error.code, 'ERR_FEDERATION_TOO_LARGE');
  mode = 'redirect';
  const redirect = await poller.refresh();
  assert.equal(redirect.status === 'failed' && redirect.error.code, 'ERR_FEDERATION_REDIRECT');
  assert.equal(await a.store.getBundle('b.test'), null);
});

test('https_spiffe serving SVID is re-minted on schedule and keeps verifying', async (t) => {
  const { a, b, dir } = await twoDomains(t);
  const initial = join(dir, 'b.json');
  writeFileSync(initial, JSON.stringify(b.ca.bundle().toJSON()));
  const endpointTimers = new FakeTimers();
  const endpoint = await startBundleEndpoint(b.ctx, { port: 0, profile: 'https_spiffe' }, endpointTimers);
  t.after(() => endpoint.close());
  const [delay] = endpointTimers.delays();
  assert.ok(delay !== undefined && delay > 1790_000 && delay <= 1800_000, `rotation at half the SVID lifetime (1 h), got ${delay}`);
  const before = endpoint.servingSerial;
  endpointTimers.fireAll();
  assert.notEqual(endpoint.servingSerial, before);
  const poller = new RelationshipPoller(a.ctx, spiffeRel(`https://127.0.0.1:${endpoint.port}/`, { initialBundleFile: initial }), { timers: new FakeTimers() });
  t.after(() => poller.close());
  assert.equal((await poller.refresh()).status, 'stored');
});

test('configuration errors: our own trust domain, https_spiffe without an endpoint ID, duplicate relationships', async (t) => {
  const { a } = await twoDomains(t);
  assert.throws(() => new RelationshipPoller(a.ctx, spiffeRel('https://x/', { trustDomain: 'a.test' })), { code: 'ERR_FEDERATION_CONFIG' });
  assert.throws(() => new RelationshipPoller(a.ctx, spiffeRel('https://x/', { endpointSpiffeId: undefined })), { code: 'ERR_FEDERATION_CONFIG' });
  await assert.rejects(
    startFederation(a.ctx, { federatesWith: [{ trustDomain: 'b.test', bundleEndpointUrl: 'https://x/', profile: 'https_web' }, { trustDomain: 'b.test', bundleEndpointUrl: 'https://y/', profile: 'https_web' }] }),
    { code: 'ERR_FEDERATION_CONFIG' },
  );
});
