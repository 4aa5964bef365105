/**
 * `inbound.jwt` with the identity from the Workload API: the JWT bundles come
 * from the agent (FetchJWTBundles), the tokens too (FetchJWTSVID). Real
 * processes: a server (in process), the agent and the proxy as children.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createEntries, eventually, joinToken, startTestServer, TD } from '../server/support/runtime.js';
import { sharedTempDir, startAgentProcess, writeFile } from '../agent/support/agent-process.js';
import { firstMessages, pem, securityHeader, splitDer, unary, workloadClient } from '../agent/support/grpc-client.js';
import { callMtls, startApp, startProxyProcess, writePolicy } from './helpers.js';

const uid = process.getuid?.() ?? 0;

test('inbound.jwt over the Workload API: tokens from the agent validate against the agent\'s JWT bundles', async (t) => {
  const server = await startTestServer(t);
  const dir = sharedTempDir(t);
  const bundleFile = writeFile(dir, 'bundle.pem', server.ctx.ca.bundle().toPem());
  const { token } = await joinToken(server);
  const agent = await startAgentProcess(t, [
    '--server', server.urls.api, '--join-token', token, '--trust-bundle', bundleFile,
    '--socket', `${dir}/sock/agent.sock`, '--data-dir', `${dir}/data`, '--health-bind', '127.0.0.1:0', '--metrics-bind', '127.0.0.1:0', '--log-level', process.env.MESHWARD_TEST_LOG ?? 'warn',
  ]);
  const id = `spiffe://${TD}/billing`;
  await createEntries(server, [{ spiffeId: id, parentId: agent.spiffeId, selectors: [{ type: 'unix', value: `uid:${uid}` }] }]);

  const wl = workloadClient(agent.socketPath);
  t.after(() => wl.close());
  let svid: any;
  assert.ok(
    await eventually(async () => {
      svid = (await firstMessages(wl.FetchX509SVID({}, securityHeader()), 1, 2_000).catch(() => [undefined]))[0]?.svids?.[0];
      return svid !== undefined;
    }, 20_000, 200),
  );
  const client = { certPem: splitDer(svid.x509_svid).map((c) => pem('CERTIFICATE', c)).join(''), keyPem: pem('PRIVATE KEY', svid.x509_svid_key), cert: '', key: '', bundle: '' };
  const roots = { bundlePem: () => splitDer(svid.bundle).map((c) => pem('CERTIFICATE', c)).join('') };
  const jwt = async (audience: string) => (await unary(wl, 'FetchJWTSVID', { audience: [audience] })).svids[0].svid as string;

  const app = await startApp();
  t.after(() => app.kill());
  const policy = writePolicy(dir, 'policy.yaml', `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: by-token, namespace: billing }
spec:
  action: ALLOW
  rules:
    - from: [{ source: { requestPrincipals: ["${id}"] } }]
`);
  const cfg = writeFile(dir, 'proxy.yaml', `workload: { namespace: billing }
identity: { socket: unix://${agent.socketPath} }
inbound: { listen: 127.0.0.1:0, app: 127.0.0.1:${app.port}, jwt: { audience: [billing], required: true } }
policy: [${policy}]
`);
  const proxy = await startProxyProcess(['--config', cfg]);
  t.after(() => proxy.kill());
  const call = async (token?: string) =>
    (await callMtls(proxy.inboundPort, roots, { client: client as never, path: '/invoices', headers: token === undefined ? {} : { authorization: `Bearer ${token}` } })).status;

  assert.equal(await call(await jwt('billing')), 200);
  assert.equal(await call(await jwt('someone-else')), 401);
  assert.equal(await call(), 401);
});
