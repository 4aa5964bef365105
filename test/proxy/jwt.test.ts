/**
 * Inbound JWT-SVID authentication (`inbound.jwt`), real processes and real
 * TLS: the app and two proxies run as child processes; tokens are minted by
 * the test CA and sent by mTLS clients. Proxy A: optional tokens, a policy on
 * `requestPrincipals`. Proxy B: required tokens, replay memory, the token
 * forwarded, a low lockout threshold.
 */
import assert from 'node:assert/strict';
import { sign } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, request as httpsRequest } from 'node:https';
import { connect as h2connect } from 'node:http2';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { configFromFlags, parseProxyConfig } from '../../src/proxy/config.js';
import { TestPki, callMtls, callPlain, configErrorKey, seenByApp, sleep, startApp, startProxyProcess, writePolicy, type ProxyProc, type Reply, type SvidFiles } from './helpers.js';

const AUD = 'payment';

const POLICY = `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: jwt-callers, namespace: shop }
spec:
  action: ALLOW
  rules:
  - from: [{ source: { requestPrincipals: ["spiffe://example.org/web"] } }]
    to: [{ operation: { paths: ["/jwt/*"] } }]
  - from: [{ source: { requestPrincipals: ["spiffe://partner.org/ns/shop/sa/*"] } }]
    to: [{ operation: { paths: ["/partner/*"] } }]
  - from: [{ source: { principals: ["example.org/order"] } }]
    to: [{ operation: { paths: ["/open/*"] } }]
`;

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

function assertInvalidToken(r: Reply, reason: string): void {
  assert.equal(r.status, 401, `${reason}: ${r.body}`);
  assert.equal(r.headers['www-authenticate'], 'Bearer error="invalid_token"');
  assert.equal(r.body, `JWT-SVID authentication failed: ${reason}\n`);
}

async function metric(port: number, line: RegExp): Promise<number> {
  const body = (await callPlain(port, { path: '/metrics' })).body;
  const m = new RegExp(`^${line.source} (\\d+)$`, 'm').exec(body);
  return m ? Number(m[1]) : 0;
}

describe('inbound JWT-SVID authentication', () => {
  const pki = new TestPki();
  const payment = pki.svid('/payment');
  const order = pki.svid('/order');
  const other = new TestPki('other.org');
  const partner = new TestPki('partner.org');
  const impostor = new TestPki('example.org'); // our trust domain's name, another CA's keys
  let app: Awaited<ReturnType<typeof startApp>>;
  let a: ProxyProc;
  let b: ProxyProc;
  const auditFile = join(pki.dir, 'audit-jwt.jsonl');
  const partnerBundle = join(pki.dir, 'partner-jwt.json');

  const call = (proxy: ProxyProc, path: string, headers: Record<string, string> = {}, client: SvidFiles = order) => callMtls(proxy.inboundPort, pki, { client, path, headers });

  before(async () => {
    app = await startApp();
    const policy = writePolicy(pki.dir, 'jwt-policy.yaml', POLICY);
    writeFileSync(partnerBundle, '{"keys":[]}'); // partner.org trusted, but no keys yet
    const identity = `identity: { files: { cert: ${payment.cert}, key: ${payment.key}, bundle: ${payment.bundle}, jwtBundles: { example.org: ${pki.jwtBundleFile()}, other.org: ${other.jwtBundleFile()}, partner.org: ${partnerBundle} } } }`;
    const cfgA = join(pki.dir, 'jwt-a.yaml');
    writeFileSync(
      cfgA,
      `workload: { namespace: shop }
${identity}
inbound: { listen: 127.0.0.1:0, app: 127.0.0.1:${app.port}, trustDomains: [example.org, partner.org], jwt: { audience: [${AUD}, other-name] } }
policy: [${policy}]
lockout: { maxFailures: 1000, windowMs: 60000, cooldownMs: 60000 }
audit: { file: ${auditFile}, flushIntervalMs: 20 }
metrics: { bind: 127.0.0.1:0 }
`,
    );
    const cfgB = join(pki.dir, 'jwt-b.yaml');
    writeFileSync(
      cfgB,
      `${identity}
inbound: { listen: 127.0.0.1:0, app: 127.0.0.1:${app.port}, jwt: { audience: [${AUD}], required: true, replay: true, forwardOriginalToken: true, requireKeyId: false } }
lockout: { maxFailures: 3, windowMs: 60000, cooldownMs: 60000 }
metrics: { bind: 127.0.0.1:0 }
`,
    );
    [a, b] = await Promise.all([startProxyProcess(['--config', cfgA]), startProxyProcess(['--config', cfgB])]);
  });
  after(async () => {
    await a?.kill();
    await b?.kill();
    await app?.kill();
  });

  test('a valid token: the policy sees its SPIFFE ID as the request principal; the app gets no Authorization header', async () => {
    const token = pki.jwt('/web', AUD);
    const r = await call(a, '/jwt/x', bearer(token));
    assert.equal(r.status, 200, r.body);
    const seen = (await seenByApp(app.port)).at(-1)!;
    assert.equal(seen.url, '/jwt/x');
    assert.equal(seen.headers.authorization, undefined);
    assert.equal(seen.headers['x-meshward-peer-id'], order.id, 'the mTLS peer is still the peer');
    // another subject, equally valid, is not the principal the rule names
    assert.equal((await call(a, '/jwt/x', bearer(pki.jwt('/api', AUD)))).status, 403);
    // a token naming several audiences, one of them ours
    assert.equal((await call(a, '/jwt/x', bearer(pki.jwt('/web', ['elsewhere', 'other-name'])))).status, 200);
  });

  test('no token, not required: passes with no request principal', async () => {
    assert.equal((await call(a, '/jwt/x')).status, 403);
    assert.equal((await call(a, '/open/x')).status, 200);
  });

  test('HTTP/2 carries the token the same way', async () => {
    const session = h2connect(`https://127.0.0.1:${a.inboundPort}`, { cert: order.certPem, key: order.keyPem, ca: pki.bundlePem(), checkServerIdentity: () => undefined });
    const get = (path: string, token: string) =>
      new Promise<number>((resolve, reject) => {
        const s = session.request({ ':path': path, ':method': 'GET', authorization: `Bearer ${token}` });
        let status = 0;
        s.on('response', (h) => (status = Number(h[':status'])));
        s.on('data', () => undefined);
        s.on('end', () => resolve(status));
        s.on('error', reject);
        s.end();
      });
    try {
      assert.equal(await get('/jwt/h2', pki.jwt('/web', AUD)), 200);
      assert.equal(await get('/jwt/h2', pki.jwt('/web', 'nobody')), 401);
    } finally {
      session.close();
    }
  });

  test('invalid tokens get 401 invalid_token and never reach the app', async () => {
    const before = (await seenByApp(app.port)).length;
    const good = pki.jwt('/web', AUD);
    const [h, p] = good.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;

    assertInvalidToken(await call(a, '/jwt/x', bearer(pki.jwt('/web', AUD, { now: new Date(Date.now() - 3_600_000), ttlSeconds: 300 }))), 'jwt-expired');
    assertInvalidToken(await call(a, '/jwt/x', bearer(pki.jwt('/web', 'someone-else'))), 'jwt-audience');
    // other.org: its bundle is at hand, but it is not in inbound.trustDomains
    assertInvalidToken(await call(a, '/jwt/x', bearer(other.jwt('/web', AUD))), 'jwt-untrusted-trust-domain');
    // forged: the subject changed under the original signature; and a token from another CA posing as example.org
    const forged = `${h}.${b64({ ...claims, sub: 'spiffe://example.org/admin' })}.${good.split('.')[2]}`;
    assertInvalidToken(await call(a, '/jwt/x', bearer(forged)), 'jwt-signature');
    assertInvalidToken(await call(a, '/jwt/x', bearer(impostor.jwt('/web', AUD))), 'jwt-signature');
    // alg none with an empty signature
    const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as Record<string, unknown>;
    assertInvalidToken(await call(a, '/jwt/x', bearer(`${b64({ ...header, alg: 'none' })}.${p}.`)), 'jwt-algorithm');
    assertInvalidToken(await call(a, '/jwt/x', bearer('not-a-jwt')), 'jwt-malformed');
    // no kid, properly signed by our own JWT key: refused (go-spiffe, SECURITY-CASES 25)
    const keyFile = readdirSync(join(pki.dir, 'ca')).find((f) => f.startsWith('jwt-') && f.endsWith('.key'))!;
    const noKidHead = b64({ alg: header.alg, typ: 'JWT' });
    const noKidSig = sign('sha256', Buffer.from(`${noKidHead}.${p}`), { key: readFileSync(join(pki.dir, 'ca', keyFile)), dsaEncoding: 'ieee-p1363' }).toString('base64url');
    assertInvalidToken(await call(a, '/jwt/x', bearer(`${noKidHead}.${p}.${noKidSig}`)), 'jwt-no-key-id');
    // a present token that is not Bearer is not "absent"
    assertInvalidToken(await call(a, '/open/x', { authorization: 'Basic b3JkZXI6c2VjcmV0' }), 'jwt-malformed');

    // two Authorization headers, the first one valid
    const two = await callMtls(a.inboundPort, pki, { client: order, path: '/jwt/x', rawHeaders: ['host', 'payment', 'authorization', `Bearer ${good}`, 'authorization', 'Bearer x.y.z'] });
    assert.equal(two.status, 401, two.body);
    assert.equal(two.headers['www-authenticate'], 'Bearer error="invalid_request"');

    assert.equal((await seenByApp(app.port)).length, before);
    // the kid-less token where requireKeyId is off (b): the keys that fit are tried
    assert.equal((await call(b, '/x', bearer(`${noKidHead}.${p}.${noKidSig}`))).status, 200);
  });

  test('the JWT bundle files are watched: a trust domain\'s new keys are used without a restart', async () => {
    const token = partner.jwt('/ns/shop/sa/billing', AUD);
    assertInvalidToken(await call(a, '/partner/x', bearer(token)), 'jwt-signature');
    writeFileSync(partnerBundle, JSON.stringify(partner.ca.bundle().toJSON()));
    let status = 0;
    for (let i = 0; i < 40 && status !== 200; i++) {
      await sleep(100);
      status = (await call(a, '/partner/x', bearer(token))).status;
    }
    assert.equal(status, 200);
  });

  test('metrics count the failures by reason; the audit holds token IDs and reasons, never a token', async () => {
    const port = a.metricsPort!;
    assert.equal(await metric(port, /meshward_proxy_authn_failures_total\{reason="jwt-expired"\}/), 1);
    assert.equal(await metric(port, /meshward_proxy_authn_failures_total\{reason="jwt-signature"\}/), 3);
    assert.equal(await metric(port, /meshward_proxy_authn_failures_total\{reason="jwt-multiple-headers"\}/), 1);
    await sleep(200);
    const text = readFileSync(auditFile, 'utf8');
    assert.ok(!/eyJ[A-Za-z0-9_-]{10,}/.test(text), 'no token in the audit file');
    const lines = text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const allowed = lines.find((l) => l.path === '/jwt/x' && l.decision === 'allow')!;
    assert.match(String(allowed.tokenId), /^sha256:[0-9a-f]{16}$/);
    assert.equal(allowed.caller, order.id);
    const expired = lines.find((l) => l.reason === 'JWT-SVID authentication failed: jwt-expired')!;
    assert.equal(expired.decision, 'deny');
    assert.equal(expired.status, 401);
    assert.match(String(expired.tokenId), /^sha256:/);
    // a Basic credential is never hashed into the audit (a low-entropy secret could be brute-forced from it)
    assert.equal(lines.find((l) => l.path === '/open/x' && l.status === 401)!.tokenId, null);
  });

  test('required: a request without a token gets 401 with a bare Bearer challenge', async () => {
    const r = await call(b, '/x');
    assert.equal(r.status, 401);
    assert.equal(r.headers['www-authenticate'], 'Bearer');
    assert.equal(await metric(b.metricsPort!, /meshward_proxy_authn_failures_total\{reason="jwt-missing"\}/), 1);
  });

  test('forwardOriginalToken keeps the header for the app; with replay memory a token is accepted once', async () => {
    const token = pki.jwt('/web', AUD);
    assert.equal((await call(b, '/once', bearer(token))).status, 200);
    assert.equal((await seenByApp(app.port)).at(-1)!.headers.authorization, `Bearer ${token}`);
    assertInvalidToken(await call(b, '/once', bearer(token)), 'jwt-replayed');
  });

  test('bad tokens count towards the lockout: the connection gets 429, new connections are dropped, even with a valid token', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1, cert: order.certPem, key: order.keyPem, ca: pki.bundlePem(), checkServerIdentity: () => undefined });
    const send = (token: string) =>
      new Promise<Reply>((resolve, reject) => {
        const req = httpsRequest({ host: '127.0.0.1', port: b.inboundPort, path: '/x', headers: bearer(token), agent }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        });
        req.on('error', reject);
        req.end();
      });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 5 && !statuses.includes(429); i++) statuses.push((await send(pki.jwt('/web', 'wrong'))).status);
      // one failure (the replay) is already on record: two more reach maxFailures 3
      assert.deepEqual(statuses, [401, 401, 429]);
      const locked = await send(pki.jwt('/web', AUD));
      assert.equal(locked.status, 429);
      assert.ok(Number(locked.headers['retry-after']) > 0);
    } finally {
      agent.destroy();
    }
    await assert.rejects(call(b, '/x', bearer(pki.jwt('/web', AUD))));
    assert.equal(await metric(b.metricsPort!, /meshward_proxy_lockouts_total/), 1);
  });
});

describe('inbound.jwt configuration', () => {
  const files = { cert: 'c.pem', key: 'k.pem', bundle: 'b.pem' };
  const base = (inbound: Record<string, unknown>, identity: Record<string, unknown> = { files }) => ({ identity, inbound: { listen: '127.0.0.1:1', app: '127.0.0.1:2', ...inbound } });
  const key = configErrorKey;

  test('defaults, and each error names its key', () => {
    const ok = parseProxyConfig(base({ jwt: { audience: ['a'] } }, { files: { ...files, jwtBundles: { 'spiffe://example.org': 'j.json' } } }), {});
    assert.deepEqual(ok.inbound?.jwt, { audience: ['a'], required: false, forwardOriginalToken: false, replay: false, requireKeyId: true });
    assert.deepEqual(ok.identity.files?.jwtBundles, { 'example.org': 'j.json' });
    assert.equal(key(base({ jwt: { audience: ['a'] } })), 'identity.files.jwtBundles');
    assert.equal(key(base({ jwt: { audience: [] } })), 'inbound.jwt.audience');
    assert.equal(key(base({ jwt: { audience: ['a'], forward: true } })), 'inbound.jwt.forward');
    assert.equal(key(base({ jwt: { audience: ['a'], replay: 'yes' } })), 'inbound.jwt.replay');
    assert.equal(key(base({ jwt: { audience: ['a'], requireKeyId: 'no' } })), 'inbound.jwt.requireKeyId');
    assert.equal(key(base({ protocol: 'tcp', jwt: { audience: ['a'] } })), 'inbound.jwt');
    assert.equal(key(base({}, { files: { ...files, jwtBundles: { 'Bad Domain': 'x' } } })), 'identity.files.jwtBundles.Bad Domain');
    assert.equal(key(base({}, { files: { ...files, jwtBundles: { 'example.org': '' } } })), 'identity.files.jwtBundles.example.org');
    // from the Workload API the bundles come with the identity
    assert.equal(parseProxyConfig(base({ jwt: { audience: ['a'] } }, { socket: 'unix:///tmp/agent.sock' }), {}).inbound?.jwt?.required, false);
  });

  test('--svid-* flags replace the file identity but keep its jwtBundles', () => {
    const pki = new TestPki();
    const cfg = join(pki.dir, 'flags.yaml');
    writeFileSync(cfg, `identity: { files: { cert: a, key: b, bundle: c, jwtBundles: { example.org: j.json } } }\ninbound: { listen: 127.0.0.1:1, app: 127.0.0.1:2, jwt: { audience: [x] } }\n`);
    const config = configFromFlags({ config: cfg, svidCert: 'c2', svidKey: 'k2', svidBundle: 'b2' }, {});
    assert.deepEqual(config.identity.files, { cert: 'c2', key: 'k2', bundle: 'b2', jwtBundles: { 'example.org': 'j.json' } });
  });
});
