/**
 * The Workload API end to end: a real server (in process, real TLS), the
 * agent as a real process, and clients that share no code with meshward
 * (stock grpc-js + proto-loader on the official proto).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { test } from 'node:test';
import { createEntries, joinToken, startTestServer, TD } from '../server/support/runtime.js';
import { sharedTempDir, startAgentProcess, writeFile } from './support/agent-process.js';
import { firstMessages, grpc, pem, securityHeader, splitDer, unary, workloadClient } from './support/grpc-client.js';

async function setup(t: { after(fn: () => unknown): void }, extraArgs: string[] = []) {
  const server = await startTestServer(t);
  const dir = sharedTempDir(t);
  const bundle = writeFile(dir, 'bundle.pem', server.ctx.ca.bundle().toPem());
  const { token } = await joinToken(server);
  const agent = await startAgentProcess(t, [
    '--server', server.urls.api, '--join-token', token, '--trust-bundle', bundle,
    '--socket', `${dir}/sock/agent.sock`, '--data-dir', `${dir}/data`, '--health-bind', '127.0.0.1:0', '--metrics-bind', '127.0.0.1:0', '--log-level', process.env.MESHWARD_TEST_LOG ?? 'warn', ...extraArgs,
  ]);
  return { server, dir, agent };
}

test('a stock grpc-js client: X.509-SVID (openssl verify accepts it), a rotation on the stream, a JWT-SVID validated by ValidateJWTSVID', async (t) => {
  const { server, dir, agent } = await setup(t);
  await createEntries(server, [{ spiffeId: `spiffe://${TD}/web`, parentId: agent.spiffeId, selectors: [{ type: 'unix', value: 'uid:0' }], x509SvidTtl: 8 }]);
  const client = workloadClient(agent.socketPath);
  t.after(() => client.close());

  const [first, second] = await firstMessages(client.FetchX509SVID({}, securityHeader()), 2, 20_000);
  assert.equal(first.svids.length, 1);
  const svid = first.svids[0];
  assert.equal(svid.spiffe_id, `spiffe://${TD}/web`);
  const chain = splitDer(svid.x509_svid);
  const roots = splitDer(svid.bundle);
  const leaf = new X509Certificate(chain[0]!);
  assert.match(leaf.subjectAltName ?? '', new RegExp(`URI:spiffe://${TD}/web`));
  writeFile(dir, 'leaf.pem', pem('CERTIFICATE', chain[0]!));
  writeFile(dir, 'untrusted.pem', chain.slice(1).map((c) => pem('CERTIFICATE', c)).join('') || pem('CERTIFICATE', chain[0]!));
  writeFile(dir, 'roots.pem', roots.map((c) => pem('CERTIFICATE', c)).join(''));
  const out = execFileSync('openssl', ['verify', '-CAfile', `${dir}/roots.pem`, '-untrusted', `${dir}/untrusted.pem`, `${dir}/leaf.pem`], { encoding: 'utf8' });
  assert.match(out, /OK/);
  // The key is unencrypted PKCS#8 DER matching the leaf.
  const { createPrivateKey, createPublicKey } = await import('node:crypto');
  const key = createPrivateKey({ key: svid.x509_svid_key, format: 'der', type: 'pkcs8' });
  assert.ok(createPublicKey(key).equals(leaf.publicKey));

  // The rotation arrived on the same stream: a new certificate and key.
  const rotated = new X509Certificate(splitDer(second.svids[0].x509_svid)[0]!);
  assert.notEqual(rotated.serialNumber, leaf.serialNumber);
  assert.ok(new Date(rotated.validTo) >= new Date(leaf.validTo));

  const jwt = await unary(client, 'FetchJWTSVID', { audience: ['billing', 'audit'] });
  assert.equal(jwt.svids.length, 1);
  assert.equal(jwt.svids[0].spiffe_id, `spiffe://${TD}/web`);
  const again = await unary(client, 'FetchJWTSVID', { audience: ['audit', 'billing'] });
  assert.equal(again.svids[0].svid, jwt.svids[0].svid, 'cached per (ID, sorted audiences)');
  const validated = await unary(client, 'ValidateJWTSVID', { audience: 'billing', svid: jwt.svids[0].svid });
  assert.equal(validated.spiffe_id, `spiffe://${TD}/web`);
  assert.equal(validated.claims.fields.sub.stringValue, `spiffe://${TD}/web`);
  assert.deepEqual(validated.claims.fields.aud.listValue.values.map((v: any) => v.stringValue).sort(), ['audit', 'billing']);
  await assert.rejects(unary(client, 'ValidateJWTSVID', { audience: 'other', svid: jwt.svids[0].svid }), (e: any) => e.code === grpc.status.INVALID_ARGUMENT);
  await assert.rejects(unary(client, 'ValidateJWTSVID', { audience: '', svid: jwt.svids[0].svid }), (e: any) => e.code === grpc.status.INVALID_ARGUMENT && /audience must be specified/.test(e.details));
  await assert.rejects(unary(client, 'FetchJWTSVID', { audience: [] }), (e: any) => e.code === grpc.status.INVALID_ARGUMENT);

  // Bundles: X.509 (DER) and JWT (JWKS JSON), keyed by the trust domain's SPIFFE ID.
  const [x509b] = await firstMessages(client.FetchX509Bundles({}, securityHeader()), 1);
  assert.deepEqual(Object.keys(x509b.bundles), [`spiffe://${TD}`]);
  const [jwtb] = await firstMessages(client.FetchJWTBundles({}, securityHeader()), 1);
  const jwks = JSON.parse(jwtb.bundles[`spiffe://${TD}`].toString());
  assert.ok(jwks.keys.length >= 1 && jwks.keys.every((k: any) => k.kid && k.kty && k.use === undefined));

  await assert.rejects(firstMessages(client.FetchWITSVID({}, securityHeader()), 1), (e: any) => e.code === grpc.status.UNIMPLEMENTED);

  // Health and metrics.
  const ready = await fetch(`${agent.health}/ready`);
  assert.equal(ready.status, 200);
  const metrics = await (await fetch(`${agent.metrics}/metrics`)).text();
  assert.match(metrics, /meshward_agent_svids_served_total\{kind="x509"\} \d+/);
  assert.match(metrics, /meshward_agent_server_connected 1/);
  assert.match(metrics, /meshward_agent_svid_seconds_to_expiry\{svid="agent"\} \d+/);
});

test('no security header: InvalidArgument; a caller without entries: PermissionDenied', async (t) => {
  const { agent } = await setup(t);
  const client = workloadClient(agent.socketPath);
  t.after(() => client.close());
  for (const method of ['FetchX509SVID', 'FetchX509Bundles', 'FetchJWTBundles']) {
    await assert.rejects(firstMessages(client[method]({}, new grpc.Metadata()), 1), (e: any) => e.code === grpc.status.INVALID_ARGUMENT && e.details === 'security header missing from request', method);
  }
  const twice = new grpc.Metadata();
  twice.add('workload.spiffe.io', 'true');
  twice.add('workload.spiffe.io', 'true');
  await assert.rejects(unary(client, 'FetchJWTSVID', { audience: ['a'] }, twice), (e: any) => e.code === grpc.status.INVALID_ARGUMENT);
  const wrong = new grpc.Metadata();
  wrong.set('workload.spiffe.io', 'TRUE');
  await assert.rejects(unary(client, 'ValidateJWTSVID', { audience: 'a', svid: 'x' }, wrong), (e: any) => e.code === grpc.status.INVALID_ARGUMENT);
  await assert.rejects(firstMessages(client.FetchX509SVID({}, securityHeader()), 1), (e: any) => e.code === grpc.status.PERMISSION_DENIED && e.details === 'no identity issued');
  await assert.rejects(unary(client, 'FetchJWTSVID', { audience: ['a'] }), (e: any) => e.code === grpc.status.PERMISSION_DENIED);
});
