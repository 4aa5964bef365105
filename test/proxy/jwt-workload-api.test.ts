/**
 * `inbound.jwt` with the identity from the Workload API: the JWT bundles come
 * from the agent (FetchJWTBundles), the tokens too (FetchJWTSVID). Real
 * processes: a server (in process), the agent and the proxy as children.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TD } from '../server/support/runtime.js';
import { writeFile } from '../agent/support/agent-process.js';
import { unary } from '../agent/support/grpc-client.js';
import { startAgentWithWorkload } from './agent-workload.js';
import { callMtls, startApp, startProxyProcess, writePolicy } from './helpers.js';

test('inbound.jwt over the Workload API: tokens from the agent validate against the agent\'s JWT bundles', async (t) => {
  const id = `spiffe://${TD}/billing`;
  const { dir, agent, wl, client, roots } = await startAgentWithWorkload(t, '/billing');
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
