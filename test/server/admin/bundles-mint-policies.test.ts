import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CertificateAuthority } from '../../../src/ca/index.js';
import { Bundle } from '../../../src/spiffe/bundle.js';
import { JwtSvid } from '../../../src/spiffe/jwt/index.js';
import { verifyX509Svid } from '../../../src/spiffe/x509/index.js';
import { createAdminApp, tempDir } from '../helpers/context.js';

const TD = 'example.org';

function makeCsr(dir: string): string {
  const key = join(dir, 'w.key');
  execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key], { stdio: 'ignore' });
  execFileSync('openssl', ['req', '-new', '-key', key, '-subj', '/CN=ignored', '-out', join(dir, 'w.csr')], { stdio: 'ignore' });
  return readFileSync(join(dir, 'w.csr'), 'utf8');
}

/** The CSR with one bit of its signature flipped (the DER stays well-formed). */
function tamper(pem: string): string {
  const der = Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s/g, ''), 'base64');
  der[der.length - 2] = der[der.length - 2]! ^ 0x01;
  return `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END CERTIFICATE REQUEST-----\n`;
}

test('bundle show: SPIFFE JSON by default, PEM on request', async (t) => {
  const a = await createAdminApp(t);
  const json = await a.call({ method: 'GET', url: '/v1/bundle' });
  assert.equal(json.statusCode, 200);
  assert.match(json.headers['content-type'] as string, /^application\/json/);
  assert.ok(Bundle.parse(json.body, TD).equals(a.ca.bundle()));
  const pem = await a.call({ method: 'GET', url: '/v1/bundle?format=pem' });
  assert.match(pem.headers['content-type'] as string, /^application\/x-pem-file/);
  assert.equal(pem.body, a.ca.bundle().toPem());
  assert.equal((await a.call({ method: 'GET', url: '/v1/bundle?format=der' })).json().error.field, 'format');
});

test('federated bundles: set from SPIFFE JSON or PEM, list, delete; our own trust domain refused', async (t) => {
  const a = await createAdminApp(t);
  const other = CertificateAuthority.create({ trustDomain: 'other.org' });
  const doc = JSON.stringify(other.bundle().toJSON());
  const set = await a.call({ method: 'PUT', url: '/v1/federated-bundles/other.org', payload: { document: doc } });
  assert.equal(set.statusCode, 200, set.body);
  assert.equal(set.json().trustDomain, 'other.org');
  assert.equal(set.json().sequence, other.bundle().sequence);
  assert.ok(Bundle.parse(set.json().document, 'other.org').equals(other.bundle()));

  const third = CertificateAuthority.create({ trustDomain: 'third.org' });
  const pem = await a.call({ method: 'PUT', url: '/v1/federated-bundles/third.org', payload: { pem: third.bundle().toPem() } });
  assert.equal(pem.statusCode, 200, pem.body);
  assert.equal(pem.json().sequence, 1);
  assert.equal(Bundle.parse(pem.json().document, 'third.org').x509Authorities().length, 1);

  const list = await a.call({ method: 'GET', url: '/v1/federated-bundles' });
  assert.deepEqual(list.json().bundles.map((b: { trustDomain: string }) => b.trustDomain).sort(), ['other.org', 'third.org']);

  const own = await a.call({ method: 'PUT', url: `/v1/federated-bundles/${TD}`, payload: { document: JSON.stringify(a.ca.bundle().toJSON()) } });
  assert.equal(own.statusCode, 400);
  assert.equal(own.json().error.code, 'ERR_ADMIN_OWN_TRUST_DOMAIN');
  assert.equal(own.json().error.field, 'trustDomain');
  assert.equal(await a.store.getBundle(TD), null, 'nothing stored for our own trust domain');
  assert.equal((await a.call({ method: 'DELETE', url: `/v1/federated-bundles/${TD}` })).statusCode, 400);

  for (const [payload, field] of [
    [{ document: '{"keys": [{"kty": "EC", "use": "x509-svid"}]}' }, 'document'],
    [{ document: 'not json' }, 'document'],
    [{ document: '{"keys": [], "keys": []}' }, 'document'],
    [{ pem: 'no pem here' }, 'pem'],
    [{ document: doc, pem: third.bundle().toPem() }, 'document'],
    [{}, 'document'],
    [{ bundle: doc }, 'bundle'],
  ] as const) {
    const res = await a.call({ method: 'PUT', url: '/v1/federated-bundles/fourth.org', payload });
    assert.equal(res.statusCode, 400, JSON.stringify(payload));
    assert.equal(res.json().error.field, field);
  }
  const badTd = await a.call({ method: 'PUT', url: '/v1/federated-bundles/Bad_TD!', payload: { document: doc } });
  assert.equal(badTd.json().error.field, 'trustDomain');
  assert.equal(await a.store.getBundle('fourth.org'), null);

  assert.deepEqual((await a.call({ method: 'DELETE', url: '/v1/federated-bundles/third.org' })).json(), {});
  assert.equal(await a.store.getBundle('third.org'), null);
  assert.equal((await a.call({ method: 'DELETE', url: '/v1/federated-bundles/third.org' })).statusCode, 404);
});

test('x509 mint: a CSR becomes an SVID that verifies against the bundle', async (t) => {
  const a = await createAdminApp(t);
  const csr = makeCsr(tempDir(t));
  const res = await a.call({ method: 'POST', url: '/v1/x509/mint', payload: { spiffeId: `spiffe://${TD}/web`, csr, ttlSeconds: 600, dnsNames: ['web.example.org'] } });
  assert.equal(res.statusCode, 200, res.body);
  const body = res.json();
  const verified = verifyX509Svid(body.chainPem, Bundle.fromX509Pem(body.bundlePem, TD));
  assert.equal(verified.id.toString(), `spiffe://${TD}/web`);
  assert.match(body.serialNumber, /^[0-9a-f]+$/);
  assert.ok(Math.abs(body.expiresAt - (Math.floor(Date.now() / 1000) + 600)) <= 2);

  for (const [payload, field] of [
    [{ spiffeId: 'spiffe://other.org/web', csr }, 'spiffeId'],
    [{ spiffeId: `spiffe://${TD}/meshward/server`, csr }, 'spiffeId'],
    [{ spiffeId: `spiffe://${TD}/web`, csr: 'garbage' }, 'csr'],
    [{ spiffeId: `spiffe://${TD}/web`, csr: tamper(csr) }, 'csr'],
    [{ spiffeId: `spiffe://${TD}/web`, csr, ttlSeconds: 0 }, 'ttlSeconds'],
    [{ spiffeId: `spiffe://${TD}/web`, csr, dnsNames: ['bad name'] }, 'dnsNames[0]'],
    [{ spiffeId: `spiffe://${TD}/web` }, 'csr'],
  ] as const) {
    const bad = await a.call({ method: 'POST', url: '/v1/x509/mint', payload });
    assert.equal(bad.statusCode, 400, `${JSON.stringify(payload).slice(0, 80)}: ${bad.body}`);
    assert.equal(bad.json().error.field, field);
    assert.ok(!bad.body.includes('BEGIN CERTIFICATE REQUEST'), 'the CSR is not echoed');
  }
});

test('jwt mint: a token for the audience, verifiable with the bundle', async (t) => {
  const a = await createAdminApp(t);
  const res = await a.call({ method: 'POST', url: '/v1/jwt/mint', payload: { spiffeId: `spiffe://${TD}/web`, audience: ['db', 'cache'], ttlSeconds: 60 } });
  assert.equal(res.statusCode, 200, res.body);
  const svid = await JwtSvid.parseAndValidate(res.json().token, a.ca.bundle(), ['db']);
  assert.equal(svid.id.toString(), `spiffe://${TD}/web`);
  assert.equal(res.json().expiresAt, Math.floor(svid.expiresAt.getTime() / 1000));
  for (const [payload, field] of [
    [{ spiffeId: `spiffe://${TD}/web`, audience: [] }, 'audience'],
    [{ spiffeId: `spiffe://${TD}/web`, audience: [''] }, 'audience[0]'],
    [{ spiffeId: `spiffe://${TD}/web`, audience: 'db' }, 'audience'],
    [{ spiffeId: `spiffe://${TD}/web`, audience: ['db'], ttlSeconds: 366 * 86400 }, 'ttlSeconds'],
  ] as const) {
    const bad = await a.call({ method: 'POST', url: '/v1/jwt/mint', payload });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().error.field, field);
  }
});

const POLICIES = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: allow-web
  namespace: shop
spec:
  action: ALLOW
  rules:
  - from:
    - source:
        principals: ["example.org/ns/shop/sa/web"]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: deny-all
  namespace: admin
spec: {}
`;

test('policies: a valid set is stored per namespace/name; an invalid set is refused whole', async (t) => {
  const a = await createAdminApp(t);
  const put = await a.call({ method: 'PUT', url: '/v1/policies', payload: { yaml: POLICIES } });
  assert.equal(put.statusCode, 200, put.body);
  assert.deepEqual(put.json().policies.map((p: { namespace: string; name: string }) => `${p.namespace}/${p.name}`).sort(), ['admin/deny-all', 'shop/allow-web']);
  const listed = await a.call({ method: 'GET', url: '/v1/policies' });
  const web = listed.json().policies.find((p: { name: string }) => p.name === 'allow-web');
  assert.match(web.document, /principals: \[ ?"example.org\/ns\/shop\/sa\/web" ?\]/);
  assert.doesNotMatch(web.document, /deny-all/, 'each policy is stored as its own document');

  const invalid = POLICIES.replace('deny-all', 'deny-all-2').replace('name: allow-web', 'name: allow-web-2') + '---\napiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata:\n  name: broken\nspec:\n  action: MAYBE\n';
  const refused = await a.call({ method: 'PUT', url: '/v1/policies', payload: { yaml: invalid } });
  assert.equal(refused.statusCode, 400);
  assert.equal(refused.json().error.field, 'yaml');
  assert.match(refused.json().error.message, /action/);
  const syntax = await a.call({ method: 'PUT', url: '/v1/policies', payload: { yaml: 'kind: [unclosed' } });
  assert.equal(syntax.statusCode, 400);
  assert.match(syntax.json().error.message, /YAML/);
  assert.equal((await a.call({ method: 'PUT', url: '/v1/policies', payload: { yaml: '' } })).json().error.field, 'yaml');
  assert.deepEqual((await a.store.listPolicies()).map((p) => p.name).sort(), ['allow-web', 'deny-all'], 'the refused sets stored nothing');

  const again = await a.call({ method: 'PUT', url: '/v1/policies', payload: { yaml: POLICIES } });
  assert.ok(again.json().policies.every((p: { revision: number }) => p.revision >= 2), 'a second put bumps the revision');

  assert.deepEqual((await a.call({ method: 'DELETE', url: '/v1/policies/shop/allow-web' })).json(), {});
  assert.deepEqual((await a.store.listPolicies()).map((p) => p.name), ['deny-all']);
  assert.equal((await a.call({ method: 'DELETE', url: '/v1/policies/shop/allow-web' })).statusCode, 404);
  assert.equal((await a.call({ method: 'DELETE', url: '/v1/policies/Bad_NS/x' })).json().error.field, 'namespace');
});
