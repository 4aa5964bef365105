/**
 * Outbound destinations with several endpoints and outlier detection, real
 * processes and real TLS: the proxy is a child process; the endpoints are
 * mTLS servers in this process, each presenting the destination's SVID and
 * answering 200, 503, or nothing at all.
 */
import assert from 'node:assert/strict';
import { createServer as createHttpsServer, type Server } from 'node:https';
import { createServer as createNetServer } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseProxyConfig } from '../../src/proxy/config.js';
import { TestPki, callPlain, configErrorKey, runProxyCli, sleep, startProxyProcess, type ProxyProc, type SvidFiles } from './helpers.js';

interface Endpoint {
  readonly port: number;
  readonly name: string;
  hits: number;
  close(): Promise<void>;
}

/** An mTLS endpoint presenting `svid`: `ok` answers 200, `fail` 503, `hang` never answers. */
async function endpoint(svid: SvidFiles, mode: 'ok' | 'fail' | 'hang'): Promise<Endpoint> {
  const server: Server = createHttpsServer({ cert: svid.certPem, key: svid.keyPem, ca: svid.bundlePem, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.3' }, (req, res) => {
    ep.hits++;
    req.resume();
    if (mode === 'hang') return;
    res.writeHead(mode === 'ok' ? 200 : 503, { 'content-type': 'text/plain' });
    res.end(mode);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  const ep: Endpoint = {
    port,
    name: `127.0.0.1:${port}`,
    hits: 0,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
  return ep;
}

/** A port nothing listens on: connections are refused. */
async function deadPort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('outbound outlier detection', () => {
  const pki = new TestPki();
  const order = pki.svid('/order');
  const payment = pki.svid('/payment');
  let proxy: ProxyProc;
  const eps: Record<string, Endpoint> = {};
  let dead = 0;

  const get = async (listener: number, n: number) => {
    const statuses: number[] = [];
    for (let i = 0; i < n; i++) statuses.push((await callPlain(proxy.outboundPorts[listener]!, { path: `/r${i}` })).status);
    return statuses;
  };
  const metrics = async () => (await callPlain(proxy.metricsPort!, { path: '/metrics' })).body;
  const sample = (body: string, name: string, label: string, value: string) =>
    Number(new RegExp(`^${name}\\{${label}="${value.replace(/[.[\]]/g, '\\$&')}"\\} (\\d+)$`, 'm').exec(body)?.[1] ?? 0);

  before(async () => {
    for (const [k, mode] of [['good1', 'ok'], ['bad1', 'fail'], ['good2', 'ok'], ['bad2', 'fail'], ['bad3', 'fail'], ['good3', 'ok'], ['hang', 'hang']] as const) eps[k] = await endpoint(payment, mode);
    dead = await deadPort();
    const common = `spiffeId: ${payment.id}, retries: 0, breaker: { failures: 1000, openMs: 1000, halfOpenProbes: 1 }`;
    const cfg = join(pki.dir, 'outlier.yaml');
    writeFileSync(
      cfg,
      `identity: { files: { cert: ${order.cert}, key: ${order.key}, bundle: ${order.bundle} } }
outbound:
  - { listen: 127.0.0.1:0, upstreams: [${eps.good1!.name}, ${eps.bad1!.name}], ${common},
      outlierDetection: { consecutive5xx: 3, baseEjectionMs: 3000, maxEjectionMs: 10000, maxEjectionPercent: 50 } }
  - { listen: 127.0.0.1:0, upstreams: [${eps.good2!.name}, ${eps.bad2!.name}, ${eps.bad3!.name}], ${common},
      outlierDetection: { consecutive5xx: 2, baseEjectionMs: 60000, maxEjectionPercent: 50 } }
  - { listen: 127.0.0.1:0, upstreams: [${eps.good3!.name}, 127.0.0.1:${dead}, ${eps.hang!.name}], ${common}, timeoutMs: 400,
      outlierDetection: { consecutive5xx: 2, baseEjectionMs: 60000, maxEjectionPercent: 100 } }
metrics: { bind: 127.0.0.1:0 }
`,
    );
    proxy = await startProxyProcess(['--config', cfg]);
  });
  after(async () => {
    await proxy?.kill();
    for (const ep of Object.values(eps)) await ep.close();
  });

  test('round-robin; after consecutive5xx errors the failing endpoint gets no traffic until its ejection ends', async () => {
    const upstream = `${eps.good1!.name},${eps.bad1!.name}`;
    assert.deepEqual(await get(0, 6), [200, 503, 200, 503, 200, 503]);
    assert.equal(eps.bad1!.hits, 3);
    const m = await metrics();
    assert.equal(sample(m, 'meshward_proxy_outlier_ejections_total', 'endpoint', eps.bad1!.name), 1);
    assert.equal(sample(m, 'meshward_proxy_outlier_ejected_endpoints', 'upstream', upstream), 1);

    assert.deepEqual(await get(0, 10), Array(10).fill(200));
    assert.equal(eps.bad1!.hits, 3, 'no traffic while ejected');
    assert.equal(eps.good1!.hits, 13);

    await sleep(3100); // baseEjectionMs
    assert.equal(sample(await metrics(), 'meshward_proxy_outlier_ejected_endpoints', 'upstream', upstream), 0);
    const back = await get(0, 4);
    assert.ok(back.includes(503), `the endpoint gets traffic again: ${back}`);
    assert.ok(eps.bad1!.hits > 3);
  });

  test('maxEjectionPercent: with two of three endpoints failing, only one is ejected', async () => {
    const statuses = await get(1, 12);
    // rr good2, bad2, bad3: bad2's second error ejects it; bad3's cannot (2 of 3 > 50 %)
    assert.equal(eps.bad2!.hits, 2);
    assert.ok(eps.bad3!.hits >= 5, `bad3 keeps its share: ${eps.bad3!.hits}`);
    assert.equal(statuses.filter((s) => s === 503).length, eps.bad2!.hits + eps.bad3!.hits);
    const m = await metrics();
    assert.equal(sample(m, 'meshward_proxy_outlier_ejections_total', 'endpoint', eps.bad2!.name), 1);
    assert.equal(sample(m, 'meshward_proxy_outlier_ejections_total', 'endpoint', eps.bad3!.name), 0);
    assert.equal(sample(m, 'meshward_proxy_outlier_ejected_endpoints', 'upstream', `${eps.good2!.name},${eps.bad2!.name},${eps.bad3!.name}`), 1);
  });

  test('connection failures (502) and timeouts (504) count as errors and eject too', async () => {
    assert.deepEqual(await get(2, 6), [200, 502, 504, 200, 502, 504]);
    assert.deepEqual(await get(2, 5), Array(5).fill(200));
    assert.equal(eps.hang!.hits, 2);
    const m = await metrics();
    assert.equal(sample(m, 'meshward_proxy_outlier_ejections_total', 'endpoint', `127.0.0.1:${dead}`), 1);
    assert.equal(sample(m, 'meshward_proxy_outlier_ejections_total', 'endpoint', eps.hang!.name), 1);
  });
});

describe('outbound upstreams configuration', () => {
  const base = (out: Record<string, unknown>) => ({ identity: { socket: 'unix:///tmp/a.sock' }, outbound: [{ listen: '127.0.0.1:1', spiffeId: 'spiffe://example.org/p', ...out }] });
  const key = configErrorKey;

  test('upstream stays a list of one; upstreams and outlierDetection are validated, each error naming its key', () => {
    const one = parseProxyConfig(base({ upstream: 'payment:15006' }), {}).outbound[0]!;
    assert.deepEqual(one.upstreams, [{ host: 'payment', port: 15006 }]);
    assert.deepEqual(one.upstream, { host: 'payment', port: 15006 });
    assert.deepEqual(one.outlierDetection, { consecutive5xx: 5, baseEjectionMs: 30_000, maxEjectionMs: 300_000, maxEjectionPercent: 10 });
    const many = parseProxyConfig(base({ upstreams: ['a:1', '[::1]:2'], outlierDetection: { consecutive5xx: 3, baseEjectionMs: 400_000 } }), {}).outbound[0]!;
    assert.deepEqual(many.upstreams, [{ host: 'a', port: 1 }, { host: '::1', port: 2 }]);
    assert.equal(many.outlierDetection.maxEjectionMs, 400_000, 'the default max follows a larger base');

    assert.equal(key(base({})), 'outbound[0].upstream');
    assert.equal(key(base({ upstream: 'a:1', upstreams: ['b:2'] })), 'outbound[0].upstreams');
    assert.equal(key(base({ upstreams: [] })), 'outbound[0].upstreams');
    assert.equal(key(base({ upstreams: 'a:1' })), 'outbound[0].upstreams');
    assert.equal(key(base({ upstreams: ['a:1', 'nonsense'] })), 'outbound[0].upstreams[1]');
    assert.equal(key(base({ upstreams: ['a:1', 'A:1'] })), 'outbound[0].upstreams[1]');
    assert.equal(key(base({ upstreams: ['a:1', 'b:1'], outlierDetection: 5 })), 'outbound[0].outlierDetection');
    assert.equal(key(base({ upstreams: ['a:1', 'b:1'], outlierDetection: { consecutive5xx: 0 } })), 'outbound[0].outlierDetection.consecutive5xx');
    assert.equal(key(base({ upstreams: ['a:1', 'b:1'], outlierDetection: { baseEjectionMs: 1.5 } })), 'outbound[0].outlierDetection.baseEjectionMs');
    assert.equal(key(base({ upstreams: ['a:1', 'b:1'], outlierDetection: { baseEjectionMs: 5000, maxEjectionMs: 1000 } })), 'outbound[0].outlierDetection.maxEjectionMs');
    assert.equal(key(base({ upstreams: ['a:1', 'b:1'], outlierDetection: { maxEjectionPercent: 101 } })), 'outbound[0].outlierDetection.maxEjectionPercent');
    assert.equal(key(base({ upstreams: ['a:1', 'b:1'], outlierDetection: { interval: 10 } })), 'outbound[0].outlierDetection.interval');
  });

  test('the CLI exits 2 naming the key', async () => {
    const pki = new TestPki();
    const cfg = join(pki.dir, 'bad.yaml');
    writeFileSync(cfg, 'identity: { socket: unix:///tmp/none.sock }\noutbound:\n  - { listen: 127.0.0.1:0, upstreams: [a:1, a:1], spiffeId: spiffe://example.org/p }\n');
    const r = await runProxyCli(['--config', cfg]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /outbound\[0\]\.upstreams\[1\]: "a:1" is listed twice/);
  });
});
