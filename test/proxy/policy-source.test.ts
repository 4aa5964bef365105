/**
 * `--policy-source workload-api`, real processes: a server (in process), the
 * agent and the proxy as child processes, the app behind the proxy, and an
 * mTLS client holding an SVID from the same agent. Policies put on the
 * server are enforced by the proxy within seconds; an invalid set (written
 * straight into the datastore) makes it deny everything until a valid set is
 * stored.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { adminCall, eventually, TD } from '../server/support/runtime.js';
import { sharedTempDir } from '../agent/support/agent-process.js';
import { startAgentWithWorkload } from './agent-workload.js';
import { callMtls, runProxyCli, startApp, startProxyProcess, writePolicy } from './helpers.js';

const POLICY = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: billing-allow, namespace: billing }
spec:
  action: ALLOW
  rules:
    - from: [{ source: { principals: ["${TD}/billing"] } }]
      to: [{ operation: { methods: ["GET"], paths: ["/invoices/*"] } }]
`;

test('--policy-source workload-api: server policies enforced by the proxy; an invalid set fails closed; a valid one restores', async (t) => {
  // The client's SVID, from the same agent (same uid: same identity as the proxy).
  const { server, dir, agent, client, roots } = await startAgentWithWorkload(t, '/billing');

  const app = await startApp();
  t.after(() => app.kill());
  const auditFile = join(dir, 'audit.jsonl');
  const proxy = await startProxyProcess([
    '--inbound', '127.0.0.1:0', '--app', `127.0.0.1:${app.port}`, '--policy-source', 'workload-api', '--socket', `unix://${agent.socketPath}`,
    '--namespace', 'billing', '--metrics-bind', '127.0.0.1:0', '--audit-file', auditFile,
  ]);
  t.after(() => proxy.kill());
  const call = (method: string, path: string) => callMtls(proxy.inboundPort, roots, { method, path, client: client as never });
  const metric = async (): Promise<string> => (await fetch(`http://127.0.0.1:${proxy.metricsPort}/metrics`)).text();

  // policy put → enforced: allowed and denied requests.
  assert.equal((await adminCall(server, 'PUT', '/v1/policies', { yaml: POLICY })).status, 200);
  assert.ok(await eventually(async () => (await call('POST', '/invoices/1')).status === 403, 10_000), 'the policy was not enforced within 10 s');
  assert.equal((await call('GET', '/invoices/1')).status, 200);
  assert.equal((await call('GET', '/admin')).status, 403);
  assert.match(await metric(), /meshward_proxy_policy_fail_closed 0/);

  // An invalid set that got past the server's validation: every request denied, with a fail-closed reason.
  await server.ctx.store.putPolicies([{ namespace: 'billing', name: 'broken', document: 'apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: { name: broken, namespace: billing }\nspec: { action: ALLOW, rules: [{ from: [{ source: { ipBlocks: ["not-a-cidr"] } }] }] }\n' }], Math.floor(Date.now() / 1000));
  assert.ok(await eventually(async () => (await call('GET', '/invoices/1')).status === 403, 10_000), 'the proxy did not fail closed within 10 s');
  assert.equal((await call('GET', '/invoices/2')).status, 403);
  const m = await metric();
  assert.match(m, /meshward_proxy_policy_fail_closed 1/);
  assert.match(m, /meshward_proxy_policy_sets_total\{outcome="failed_closed"\} 1/);
  assert.match(proxy.stderr(), /policy set from the agent is invalid: failing closed/);

  // A valid set again.
  assert.equal((await adminCall(server, 'PUT', '/v1/policies', { yaml: POLICY.replace('billing-allow', 'broken') })).status, 200);
  assert.ok(await eventually(async () => (await call('GET', '/invoices/1')).status === 200, 10_000), 'enforcement did not resume within 10 s');
  assert.equal((await call('POST', '/invoices/1')).status, 403);

  await proxy.kill();
  const audit = readFileSync(auditFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.ok(audit.some((r) => /fail closed: the policy set of revision \S+ is invalid/.test(String(r.reason ?? r.record?.reason ?? JSON.stringify(r)))), 'the audit records the fail-closed reason');
});

test('--policy and --policy-source together: configuration error naming both keys', async () => {
  const dir = sharedTempDir({ after: () => undefined });
  const policy = writePolicy(dir, 'p.yaml', POLICY);
  const r = await runProxyCli(['--inbound', '127.0.0.1:0', '--app', '127.0.0.1:1', '--policy', policy, '--policy-source', 'workload-api', '--socket', 'unix:///tmp/none.sock']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /policySource/);
  assert.match(r.stderr, /--policy\b/);
  const bad = await runProxyCli(['--inbound', '127.0.0.1:0', '--app', '127.0.0.1:1', '--policy-source', 'server', '--socket', 'unix:///tmp/none.sock']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /policySource.*workload-api/);
});
