/** Outbound: app → plain HTTP → proxy A → mTLS (A's SVID) → proxy B → app; destination ID checked; breaker. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { TestPki, callPlain, identityArgs, seenByApp, startApp, startProxyProcess, sleep, type ProxyProc } from './helpers.js';

describe('outbound', () => {
  const pki = new TestPki();
  const order = pki.svid('/order');
  const payment = pki.svid('/payment');
  let app: Awaited<ReturnType<typeof startApp>>;
  let inbound: ProxyProc;
  let client: ProxyProc;

  before(async () => {
    app = await startApp();
    inbound = await startProxyProcess(['--inbound', '127.0.0.1:0', '--app', `127.0.0.1:${app.port}`, ...identityArgs(payment)]);
    const cfg = join(pki.dir, 'client.yaml');
    writeFileSync(
      cfg,
      `identity: { files: { cert: ${order.cert}, key: ${order.key}, bundle: ${order.bundle} } }
outbound:
  - { listen: 127.0.0.1:0, upstream: 127.0.0.1:${inbound.inboundPort}, spiffeId: ${payment.id}, timeoutMs: 2000, breaker: { failures: 3, openMs: 700, halfOpenProbes: 1 } }
  - { listen: 127.0.0.1:0, upstream: 127.0.0.1:${inbound.inboundPort}, spiffeId: spiffe://example.org/not-payment }
`,
    );
    client = await startProxyProcess(['--config', cfg]);
  });
  after(async () => {
    await client?.kill();
    await inbound?.kill();
    await app?.kill();
  });

  test('plain in, mTLS out: the destination sees our SPIFFE ID', async () => {
    const r = await callPlain(client.outboundPorts[0]!, { path: '/hello', headers: { 'x-meshward-peer-id': 'spiffe://example.org/admin' } });
    assert.equal(r.status, 200, r.body);
    assert.equal((await seenByApp(app.port)).at(-1)!.headers['x-meshward-peer-id'], order.id);
  });

  test('a destination presenting another SPIFFE ID is refused (502)', async () => {
    const r = await callPlain(client.outboundPorts[1]!, { path: '/hello' });
    assert.equal(r.status, 502);
  });

  test('the circuit opens on a failing upstream and closes after a probe', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await callPlain(client.outboundPorts[0]!, { method: 'POST', path: '/fail' })).status, 500);
    const before = (await seenByApp(app.port)).length;
    const open = await callPlain(client.outboundPorts[0]!, { method: 'POST', path: '/fail' });
    assert.equal(open.status, 503);
    assert.equal((await callPlain(client.outboundPorts[0]!, { path: '/ok' })).status, 503);
    assert.equal((await seenByApp(app.port)).length, before, 'open circuit: nothing reached the upstream');
    await sleep(800);
    assert.equal((await callPlain(client.outboundPorts[0]!, { path: '/ok' })).status, 200);
    assert.equal((await callPlain(client.outboundPorts[0]!, { path: '/ok2' })).status, 200);
  });

  test('non-idempotent requests are never retried', async () => {
    await sleep(800);
    const before = (await seenByApp(app.port)).filter((s) => s.url === '/fail-once').length;
    await callPlain(client.outboundPorts[0]!, { method: 'POST', path: '/fail-once', body: 'x' });
    const afterCount = (await seenByApp(app.port)).filter((s) => s.url === '/fail-once').length;
    assert.equal(afterCount - before, 1);
  });
});
