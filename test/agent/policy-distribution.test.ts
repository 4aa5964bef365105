/**
 * Policy distribution end to end: a real server (in process), the agent as
 * a real process, and an enforcer (a `DistributedPolicies` fed by
 * `PolicySource` over the agent's socket). A policy put on the server is
 * enforced within seconds; a set that is invalid by the time it reaches the
 * enforcer (written straight into the datastore, past the server's
 * validation) makes it fail closed until a valid set is stored.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { adminCall, createEntries, eventually, joinToken, startTestServer, TD } from '../server/support/runtime.js';
import { PolicySource, policyDistributionClient } from '../../src/workload/policy-source.js';
import { sharedTempDir, startAgentProcess, writeFile } from './support/agent-process.js';
import { grpc, securityHeader } from './support/grpc-client.js';

async function setup(t: { after(fn: () => unknown): void }) {
  const server = await startTestServer(t);
  const dir = sharedTempDir(t);
  const bundle = writeFile(dir, 'bundle.pem', server.ctx.ca.bundle().toPem());
  const { token } = await joinToken(server);
  const agent = await startAgentProcess(t, [
    '--server', server.urls.api, '--join-token', token, '--trust-bundle', bundle,
    '--socket', `${dir}/sock/agent.sock`, '--data-dir', `${dir}/data`, '--health-bind', '127.0.0.1:0', '--metrics-bind', '127.0.0.1:0', '--log-level', process.env.MESHWARD_TEST_LOG ?? 'warn',
  ]);
  return { server, dir, agent };
}

const uid = process.getuid?.() ?? 0;
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

const POLICY = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: billing-allow, namespace: billing }
spec:
  action: ALLOW
  rules:
    - from: [{ source: { principals: ["${TD}/ns/web/sa/frontend"] } }]
      to: [{ operation: { methods: ["GET"], paths: ["/invoices/*"] } }]
`;

const request = (principal: string, method: string, path: string) => ({
  workload: { namespace: 'billing', labels: {} },
  request: { principal, method, path, host: 'billing', port: 8443, headers: {}, sourceIp: '10.0.0.1', protocol: 'HTTP' as const },
});
const frontend = `${TD}/ns/web/sa/frontend`;
const other = `${TD}/ns/web/sa/other`;

test('a policy put on the server reaches the enforcer within seconds; an invalid set fails closed, a valid one restores enforcement', async (t) => {
  const { server, agent } = await setup(t);
  await createEntries(server, [{ spiffeId: `spiffe://${TD}/enforcer`, parentId: agent.spiffeId, selectors: [{ type: 'unix', value: `uid:${uid}` }] }]);
  const source = PolicySource.create({ address: `unix://${agent.socketPath}`, logger: quiet, initialBackoffMs: 200, maxBackoffMs: 1000 });
  t.after(() => source.close());

  // Fail closed until the first set.
  assert.equal(source.state.status, 'waiting');
  const before = source.evaluate(request(frontend, 'GET', '/invoices/1'));
  assert.equal(before.allowed, false);
  assert.match(before.reason, /^fail closed: no policy set received/);

  // The first set (no policies yet) arrives once the agent has an identity for us.
  assert.ok(await eventually(() => source.state.status === 'enforcing', 20_000), `state ${JSON.stringify(source.state)}`);
  const revision = (): string => ('revision' in source.state ? source.state.revision : '');
  const emptyRevision = revision();

  // policy put → enforced.
  const put = await adminCall(server, 'PUT', '/v1/policies', { yaml: POLICY });
  assert.equal(put.status, 200, put.text);
  const t0 = Date.now();
  assert.ok(await eventually(() => source.state.status === 'enforcing' && revision() !== emptyRevision, 5_000), 'the new set did not arrive within 5 s');
  const latency = Date.now() - t0;
  assert.ok(latency < 5_000, `${latency} ms`);
  assert.equal(source.policies.engine.policies.length, 1);
  const allowed = source.evaluate(request(frontend, 'GET', '/invoices/42'));
  assert.equal(allowed.allowed, true, allowed.reason);
  assert.equal(allowed.policy, 'billing/billing-allow');
  assert.equal(source.evaluate(request(other, 'GET', '/invoices/42')).allowed, false);
  assert.equal(source.evaluate(request(frontend, 'POST', '/invoices/42')).allowed, false);

  // A bad document slipped into the datastore past the server's validation.
  const failed = new Promise((resolve) => source.once('failed-closed', resolve));
  await server.ctx.store.putPolicies([{ namespace: 'billing', name: 'broken', document: 'apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: { name: broken, namespace: billing }\nspec:\n  action: ALOW\n  bogusField: 1\n' }], Math.floor(Date.now() / 1000));
  await Promise.race([failed, new Promise((_, reject) => setTimeout(() => reject(new Error('no failed-closed within 8 s')), 8_000))]);
  assert.equal(source.state.status, 'failed-closed');
  const denied = source.evaluate(request(frontend, 'GET', '/invoices/42'));
  assert.equal(denied.allowed, false, 'the previously allowed request is denied');
  assert.match(denied.reason, /^fail closed: the policy set of revision \S+ is invalid/);

  // A valid set again: enforcement resumes.
  const fixed = POLICY.replace('billing-allow', 'broken');
  assert.equal((await adminCall(server, 'PUT', '/v1/policies', { yaml: fixed })).status, 200);
  assert.ok(await eventually(() => source.state.status === 'enforcing', 8_000), `state ${JSON.stringify(source.state)}`);
  assert.equal(source.evaluate(request(frontend, 'GET', '/invoices/42')).allowed, true);
  assert.equal(source.evaluate(request(other, 'GET', '/invoices/42')).allowed, false);
});

test('WatchPolicies: no security header → InvalidArgument; a caller without identity → PermissionDenied; identical sets are not re-sent', async (t) => {
  const { server, agent } = await setup(t);
  const Client = policyDistributionClient();
  const client = new Client(`unix://${agent.socketPath}`, grpc.credentials.createInsecure()) as any;
  t.after(() => client.close());
  const first = (md: InstanceType<typeof grpc.Metadata>, count = 1, ms = 15_000): Promise<any[]> =>
    new Promise((resolve, reject) => {
      const got: any[] = [];
      const call = client.WatchPolicies({}, md);
      const timer = setTimeout(() => {
        call.cancel();
        resolve(got);
      }, ms);
      call.on('data', (m: any) => {
        got.push(m);
        if (got.length === count) {
          clearTimeout(timer);
          call.cancel();
          resolve(got);
        }
      });
      call.on('error', (e: any) => {
        clearTimeout(timer);
        if (e.code === grpc.status.CANCELLED) return resolve(got);
        reject(e);
      });
    });

  await assert.rejects(first(new grpc.Metadata()), (e: any) => e.code === grpc.status.INVALID_ARGUMENT && e.details === 'security header missing from request');
  const wrong = new grpc.Metadata();
  wrong.set('workload.spiffe.io', 'TRUE');
  await assert.rejects(first(wrong), (e: any) => e.code === grpc.status.INVALID_ARGUMENT);
  // Retried until the agent has synced (ready) and answers: no entry for us.
  let denied: any;
  assert.ok(
    await eventually(async () => {
      try {
        await first(securityHeader(), 1, 2_000);
        return false;
      } catch (e) {
        denied = e;
        return (e as any).code === grpc.status.PERMISSION_DENIED;
      }
    }, 20_000, 200),
    `got ${denied?.code} ${denied?.details}`,
  );
  assert.equal(denied.details, 'no identity issued');

  // With an identity: one snapshot, and no second one while nothing changes (entries change, policies do not).
  await createEntries(server, [{ spiffeId: `spiffe://${TD}/enforcer`, parentId: agent.spiffeId, selectors: [{ type: 'unix', value: `uid:${uid}` }] }]);
  let sets: any[] = [];
  assert.ok(
    await eventually(async () => {
      sets = await first(securityHeader(), 1, 2_000).catch(() => []);
      return sets.length === 1;
    }, 20_000, 200),
  );
  assert.equal(typeof sets[0].revision, 'string');
  assert.ok(sets[0].revision.length > 0);
  assert.deepEqual(sets[0].policies, []);
  const pending = first(securityHeader(), 2, 3_000);
  await new Promise((r) => setTimeout(r, 500));
  await createEntries(server, [{ spiffeId: `spiffe://${TD}/unrelated`, parentId: agent.spiffeId, selectors: [{ type: 'unix', value: 'uid:65534' }] }]);
  const got = await pending;
  assert.equal(got.length, 1, 'an entry change alone does not re-send an identical policy set');
});
