import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { Registry, register as globalRegistry } from 'prom-client';
import { createLogger, createProxyMetrics, startMetricsServer } from '../../src/telemetry/index.js';

test('caller labels are capped: values past the cap fold into "other" and the folds are counted', async () => {
  const registry = new Registry();
  const metrics = createProxyMetrics(registry, { maxCallers: 3 });
  for (let i = 0; i < 50; i++) {
    metrics.observeRequest({ caller: `spiffe://example.org/attacker/${i}`, destination: 'payment', decision: 'deny', status: 403, durationSeconds: 0.0004 });
  }
  const requests = await metrics.requests.get();
  const callers = new Set(requests.values.map((v) => v.labels.caller));
  assert.deepEqual([...callers].sort(), ['other', 'spiffe://example.org/attacker/0', 'spiffe://example.org/attacker/1', 'spiffe://example.org/attacker/2']);
  assert.equal(requests.values.find((v) => v.labels.caller === 'other')?.value, 47);
  const folded = await metrics.labelsFolded.get();
  assert.equal(folded.values.find((v) => v.labels.label === 'caller')?.value, 47);
  // a known caller keeps its own series after the cap is reached
  metrics.observeRequest({ caller: 'spiffe://example.org/attacker/1', destination: 'payment', decision: 'allow', status: 200 });
  assert.ok((await metrics.requests.get()).values.some((v) => v.labels.caller === 'spiffe://example.org/attacker/1' && v.labels.decision === 'allow'));
});

test('the metric set lives on its own registry, never the global one, and two sets do not collide', async () => {
  const a = createProxyMetrics(new Registry());
  const b = createProxyMetrics(new Registry());
  a.denial('shop/deny-all');
  b.denial(null);
  assert.equal((await globalRegistry.getMetricsAsJSON()).filter((m) => m.name.startsWith('meshward_')).length, 0);
  const names = (await a.registry.getMetricsAsJSON()).map((m) => m.name);
  for (const name of [
    'meshward_proxy_requests_total',
    'meshward_proxy_request_duration_seconds',
    'meshward_proxy_authn_failures_total',
    'meshward_proxy_denials_total',
    'meshward_proxy_rate_limited_total',
    'meshward_proxy_lockouts_total',
    'meshward_proxy_circuit_state',
    'meshward_svid_expiry_seconds',
    'meshward_audit_records_dropped_total',
    'meshward_audit_records_failed_total',
  ]) {
    assert.ok(names.includes(name), name);
  }
});

test('the histogram resolves sub-millisecond latencies; circuit and SVID gauges; audit hooks', async () => {
  const m = createProxyMetrics(new Registry());
  m.observeRequest({ caller: null, destination: 'payment', decision: 'allow', status: 200, durationSeconds: 0.00009 });
  const h = await m.duration.get();
  assert.equal(h.values.find((v) => (v.labels as { le?: number }).le === 0.0001)?.value, 1);
  assert.equal(h.values.find((v) => (v.labels as { le?: number }).le === 0.00005)?.value, 0);
  m.setCircuitState('payment:443', 'open');
  assert.equal((await m.circuitState.get()).values[0]?.value, 2);
  m.setSvidExpiry(new Date(1_000_000 + 3_600_000), 1_000_000);
  assert.equal((await m.svidExpiry.get()).values[0]?.value, 3600);
  const hooks = m.auditHooks('file');
  hooks.onDropped(3);
  hooks.onFailed(2);
  assert.equal((await m.auditDropped.get()).values[0]?.value, 3);
  assert.equal((await m.auditFailed.get()).values[0]?.value, 2);
});

test('/metrics is served on its own loopback port; other paths 404', async (t) => {
  const m = createProxyMetrics(new Registry());
  m.authnFailure('bad-certificate');
  const server = await startMetricsServer({ registry: m.registry, port: 0 });
  t.after(() => server.close());
  const res = await fetch(`http://127.0.0.1:${server.port}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type')!, /text\/plain/);
  assert.match(await res.text(), /meshward_proxy_authn_failures_total\{reason="bad-certificate"\} 1/);
  assert.equal((await fetch(`http://127.0.0.1:${server.port}/`)).status, 404);
  assert.equal((await fetch(`http://127.0.0.1:${server.port}/metrics`, { method: 'POST' })).status, 405);
  assert.equal((server.address() as { address: string }).address, '127.0.0.1');
});

test('the logger redacts authorization, cookies, tokens, keys and selectors', () => {
  const lines: string[] = [];
  const destination = new Writable({ write: (chunk, _enc, cb) => (lines.push(String(chunk)), cb()) });
  const log = createLogger({ destination, name: 'proxy' });
  log.info(
    {
      req: { headers: { authorization: 'Bearer eyJsecret', cookie: 'sid=cookie-secret', 'user-agent': 'curl' } },
      token: 'tok-secret',
      agent: { privateKey: 'key-secret', selectors: ['unix:uid:0'] },
      err: { payload: { sub: 'payload-secret' } },
    },
    'request',
  );
  const text = lines.join('');
  for (const secret of ['eyJsecret', 'cookie-secret', 'tok-secret', 'key-secret', 'unix:uid:0', 'payload-secret']) assert.ok(!text.includes(secret), secret);
  assert.ok(text.includes('curl'));
  assert.ok(text.includes('[redacted]'));
});
