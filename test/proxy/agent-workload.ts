/**
 * Test set-up shared by the proxy tests that take their identity from a real
 * agent: a server (in process), the agent as a child process, one entry for
 * this uid, and the SVID a client of the same agent receives (as PEM).
 */
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { createEntries, eventually, joinToken, startTestServer, TD } from '../server/support/runtime.js';
import { sharedTempDir, startAgentProcess, writeFile } from '../agent/support/agent-process.js';
import { firstMessages, pem, securityHeader, splitDer, workloadClient } from '../agent/support/grpc-client.js';

const uid = process.getuid?.() ?? 0;

export async function startAgentWithWorkload(t: TestContext, path: string) {
  const server = await startTestServer(t);
  const dir = sharedTempDir(t);
  const bundleFile = writeFile(dir, 'bundle.pem', server.ctx.ca.bundle().toPem());
  const { token } = await joinToken(server);
  const agent = await startAgentProcess(t, [
    '--server', server.urls.api, '--join-token', token, '--trust-bundle', bundleFile,
    '--socket', `${dir}/sock/agent.sock`, '--data-dir', `${dir}/data`, '--health-bind', '127.0.0.1:0', '--metrics-bind', '127.0.0.1:0', '--log-level', process.env.MESHWARD_TEST_LOG ?? 'warn',
  ]);
  await createEntries(server, [{ spiffeId: `spiffe://${TD}${path}`, parentId: agent.spiffeId, selectors: [{ type: 'unix', value: `uid:${uid}` }] }]);

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
  return { server, dir, agent, wl, client, roots };
}
