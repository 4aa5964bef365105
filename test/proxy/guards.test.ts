/** Guards through the real proxy process: rate limits (local and Redis), lockout, bulkhead, input validation, circuit breaker. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { TestPki, callMtls, callPlain, seenByApp, startApp, startProxyProcess, sleep, type ProxyProc, type SvidFiles } from './helpers.js';

const REDIS_URL = process.env.MESHWARD_TEST_REDIS_URL;

function configYaml(pki: TestPki, svid: SvidFiles, appPort: number, extra = ''): string {
  return `
workload: { namespace: shop, labels: { app: payment } }
identity: { files: { cert: ${svid.cert}, key: ${svid.key}, bundle: ${svid.bundle} } }
inbound: { listen: 127.0.0.1:0, app: 127.0.0.1:${appPort} }
lockout: { maxFailures: 3, windowMs: 60000, cooldownMs: 60000 }
routes:
  - name: limited
    pathPrefix: /limited/
    rateLimit: { ratePerSecond: 2, burst: 2 }
  - name: shared
    pathPrefix: /shared/
    rateLimit: { ratePerSecond: 0.5, burst: 3, scope: redis, failureMode: closed }
  - name: slow
    pathPrefix: /slow
    bulkhead: { maxConcurrent: 1, maxQueue: 0 }
  - name: charge
    pathPrefix: /payment/
    methods: [POST]
    contentTypes: [application/json]
    schema: { type: object, required: [amount], additionalProperties: false, properties: { amount: { type: number, minimum: 0 } } }
${extra}`;
}

describe('guards', () => {
  if (!REDIS_URL) {
    test('MESHWARD_TEST_REDIS_URL is required (CI sets it; locally redis://127.0.0.1:6379)', () => {
      assert.fail('MESHWARD_TEST_REDIS_URL is not set: the shared rate-limit test cannot run');
    });
  }
  const pki = new TestPki();
  const payment = pki.svid('/payment');
  const order = pki.svid('/order');
  const foreign = new TestPki('example.org').svid('/order'); // same trust domain name, different CA: a bad certificate
  let app: Awaited<ReturnType<typeof startApp>>;
  let p1: ProxyProc;
  let p2: ProxyProc;
  const prefix = `t${Date.now()}`;

  before(async () => {
    app = await startApp();
    const cfg = join(pki.dir, 'proxy.yaml');
    writeFileSync(cfg, configYaml(pki, payment, app.port, `redisUrl: ${REDIS_URL ?? 'redis://127.0.0.1:1'}\n`));
    p1 = await startProxyProcess(['--config', cfg]);
    p2 = await startProxyProcess(['--config', cfg]);
  });
  after(async () => {
    await p1?.kill();
    await p2?.kill();
    await app?.kill();
    if (REDIS_URL) {
      const r = new Redis(REDIS_URL);
      const keys = await r.keys('meshward:proxy:rl:*');
      if (keys.length > 0) await r.del(...keys);
      r.disconnect();
    }
  });

  test('rate limit: 429 with headers, then recovery', async () => {
    const codes: number[] = [];
    let limited;
    for (let i = 0; i < 4; i++) {
      const r = await callMtls(p1.inboundPort, pki, { client: order, path: `/limited/${prefix}` });
      codes.push(r.status);
      if (r.status === 429) limited = r;
    }
    assert.deepEqual(codes.slice(0, 2), [200, 200]);
    assert.ok(codes.includes(429), String(codes));
    assert.ok(limited!.headers['retry-after']);
    assert.equal(limited!.headers['ratelimit-limit'], '2');
    await sleep(1100);
    assert.equal((await callMtls(p1.inboundPort, pki, { client: order, path: `/limited/${prefix}` })).status, 200);
  });

  test('two proxies share one Redis limit', async () => {
    assert.ok(REDIS_URL, 'MESHWARD_TEST_REDIS_URL must be set');
    // burst 3 shared: 2 calls through p1 and 2 through p2 → the 4th overall is refused
    const a = await callMtls(p1.inboundPort, pki, { client: order, path: '/shared/x' });
    const b = await callMtls(p2.inboundPort, pki, { client: order, path: '/shared/x' });
    const c = await callMtls(p1.inboundPort, pki, { client: order, path: '/shared/x' });
    const d = await callMtls(p2.inboundPort, pki, { client: order, path: '/shared/x' });
    assert.deepEqual([a.status, b.status, c.status, d.status], [200, 200, 200, 429]);
  });

  test('a body failing its JSON Schema gets 400 and never reaches the app', async () => {
    const before = (await seenByApp(app.port)).length;
    const bad = await callMtls(p1.inboundPort, pki, { client: order, method: 'POST', path: '/payment/charge', body: '{"amount":"lots"}', headers: { 'content-type': 'application/json' } });
    assert.equal(bad.status, 400);
    assert.match(bad.body, /amount/);
    const extra = await callMtls(p1.inboundPort, pki, { client: order, method: 'POST', path: '/payment/charge', body: '{"amount":1,"admin":true}', headers: { 'content-type': 'application/json' } });
    assert.equal(extra.status, 400);
    const type = await callMtls(p1.inboundPort, pki, { client: order, method: 'POST', path: '/payment/charge', body: 'amount=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(type.status, 415);
    const malformed = await callMtls(p1.inboundPort, pki, { client: order, method: 'POST', path: '/payment/charge', body: '{"amount":', headers: { 'content-type': 'application/json' } });
    assert.equal(malformed.status, 400);
    assert.equal((await seenByApp(app.port)).length, before);
    const ok = await callMtls(p1.inboundPort, pki, { client: order, method: 'POST', path: '/payment/charge', body: '{"amount":5}', headers: { 'content-type': 'application/json' } });
    assert.equal(ok.status, 200);
    assert.equal((await seenByApp(app.port)).at(-1)!.body, '{"amount":5}');
  });

  test('bulkhead: a second concurrent call of the same caller gets 503', async () => {
    const first = callMtls(p1.inboundPort, pki, { client: order, path: '/slow' });
    await sleep(150);
    const second = await callMtls(p1.inboundPort, pki, { client: order, path: '/slow' });
    assert.equal(second.status, 503);
    assert.equal((await first).status, 200);
    assert.equal((await callMtls(p1.inboundPort, pki, { client: order, path: '/slow' })).status, 200);
  });

  test('lockout after N bad certificates: even a good certificate from that source is refused', async () => {
    // p2 has not seen failures yet
    assert.equal((await callMtls(p2.inboundPort, pki, { client: order, path: '/ok' })).status, 200);
    for (let i = 0; i < 3; i++) await assert.rejects(callMtls(p2.inboundPort, pki, { client: foreign, path: '/ok' }));
    await assert.rejects(callMtls(p2.inboundPort, pki, { client: order, path: '/ok' }));
    const m = await callPlain(p2.metricsPort ?? 0, { path: '/metrics' }).catch(() => null);
    void m;
  });
});
