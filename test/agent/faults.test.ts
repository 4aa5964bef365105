/**
 * Faults: the server down for longer than a rotation period (workloads keep
 * valid SVIDs, then get fresh ones), and kill -9 of the agent (it restarts
 * from its data directory without a join token; workloads reconnect).
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { test } from 'node:test';
import { startServer } from '../../src/server/server.js';
import { createEntries, joinToken, startTestServer, tempDir, testConfig, TD } from '../server/support/runtime.js';
import { sharedTempDir, startAgentProcess, writeFile } from './support/agent-process.js';
import { firstMessages, securityHeader, splitDer, workloadClient } from './support/grpc-client.js';

const leafOf = (m: any): X509Certificate => new X509Certificate(splitDer(m.svids[0].x509_svid)[0]!);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('server down longer than a rotation period: cached SVIDs stay valid and are served; fresh ones come when it returns', async (t) => {
  const dataDir = join(tempDir(t), 'data');
  const first = await startTestServer(t, { dataDir });
  const port = new URL(first.urls.api).port;
  const dir = sharedTempDir(t);
  const bundle = writeFile(dir, 'bundle.pem', first.ctx.ca.bundle().toPem());
  const { token } = await joinToken(first);
  const agent = await startAgentProcess(t, ['--server', first.urls.api, '--join-token', token, '--trust-bundle', bundle, '--socket', `${dir}/s/agent.sock`, '--data-dir', `${dir}/data`, '--health-bind', '127.0.0.1:0', '--metrics-bind', 'off', '--log-level', 'error']);
  await createEntries(first, [{ spiffeId: `spiffe://${TD}/web`, parentId: agent.spiffeId, selectors: [{ type: 'unix', value: 'uid:0' }], x509SvidTtl: 16 }]);
  const client = workloadClient(agent.socketPath);
  t.after(() => client.close());
  const [before] = await firstMessages(client.FetchX509SVID({}, securityHeader()), 1);
  const beforeLeaf = leafOf(before);

  await first.close();
  const downAt = Date.now();
  await sleep(11_000); // rotation would have happened at ~8 s
  // Still served from cache, still valid, by a new call too.
  const [during] = await firstMessages(client.FetchX509SVID({}, securityHeader()), 1);
  const duringLeaf = leafOf(during);
  assert.equal(duringLeaf.serialNumber, beforeLeaf.serialNumber, 'the cached SVID (no server to rotate it)');
  assert.ok(new Date(duringLeaf.validTo).getTime() > Date.now(), 'and it is still valid');
  assert.equal((await fetch(`${agent.health}/ready`)).status, 200, 'ready while serving from cache');
  t.diagnostic(`server down for ${Date.now() - downAt} ms`);

  const second = await startServer(testConfig(dataDir, { bind: `127.0.0.1:${port}` }));
  t.after(() => second.close());
  const end = Date.now() + 15_000;
  let fresh: X509Certificate | undefined;
  while (Date.now() < end) {
    const [m] = await firstMessages(client.FetchX509SVID({}, securityHeader()), 1);
    const leaf = leafOf(m);
    if (leaf.serialNumber !== beforeLeaf.serialNumber) {
      fresh = leaf;
      break;
    }
    await sleep(250);
  }
  assert.ok(fresh, 'a fresh SVID after the server returned');
  assert.ok(new Date(fresh.validTo) > new Date(beforeLeaf.validTo));
});

test('kill -9 of the agent: it restarts without a join token and workloads reconnect', async (t) => {
  const server = await startTestServer(t);
  const dir = sharedTempDir(t);
  const bundle = writeFile(dir, 'bundle.pem', server.ctx.ca.bundle().toPem());
  const { token } = await joinToken(server);
  const args = ['--server', server.urls.api, '--trust-bundle', bundle, '--socket', `${dir}/s/agent.sock`, '--data-dir', `${dir}/data`, '--health-bind', 'off', '--metrics-bind', 'off', '--log-level', 'info'];
  const agent = await startAgentProcess(t, [...args, '--join-token', token]);
  await createEntries(server, [{ spiffeId: `spiffe://${TD}/web`, parentId: agent.spiffeId, selectors: [{ type: 'unix', value: 'uid:0' }] }]);
  const client = workloadClient(agent.socketPath);
  t.after(() => client.close());
  const [m1] = await firstMessages(client.FetchX509SVID({}, securityHeader()), 1);
  assert.equal(m1.svids[0].spiffe_id, `spiffe://${TD}/web`);
  const { statSync } = await import('node:fs');
  assert.equal(statSync(`${dir}/data`).mode & 0o777, 0o700);
  assert.equal(statSync(`${dir}/data/agent-key.pem`).mode & 0o777, 0o600);
  assert.equal(statSync(`${dir}/s/agent.sock`).mode & 0o777, 0o777);

  assert.equal(await agent.kill('SIGKILL'), 'SIGKILL');
  const again = await startAgentProcess(t, args); // no join token
  assert.equal(again.spiffeId, agent.spiffeId, 'same agent identity');
  for (let i = 0; i < 50 && !/"how":"renewed"/.test(again.stderr()); i++) await sleep(100);
  assert.match(again.stderr(), /"how":"renewed"/, 'renewed with the stored SVID');
  const [m2] = await firstMessages(client.FetchX509SVID({}, securityHeader()), 1, 15_000);
  assert.equal(m2.svids[0].spiffe_id, `spiffe://${TD}/web`);
});
