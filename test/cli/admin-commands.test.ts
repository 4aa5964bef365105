/**
 * The spire-server-shaped CLI against a real server (in this process) over
 * its real admin socket, and over mTLS with an admin SVID.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../../src/server/server.js';
import { testConfig } from '../server/support/runtime.js';
import { runCliAsync } from './run-cli.js';

const cwd = mkdtempSync(join(tmpdir(), 'mw-cli-'));
after(() => rmSync(cwd, { recursive: true, force: true }));
const server = await startServer(testConfig(join(cwd, 'data'), { admin_ids: 'spiffe://example.org/ops' }));
after(() => server.close());
const socket = server.adminSocket;
const cli = (...args: string[]) => runCliAsync([...args, '--admin-socket', socket], { cwd });
const AGENT = 'spiffe://example.org/meshward/agent/join_token/a1';

test('entry create with spire-server flags, then show, update and delete', async () => {
  const created = await cli('entry', 'create', '-spiffeID', 'spiffe://example.org/web', '-parentID', AGENT, '-selector', 'unix:uid:1000', '-selector', 'unix:gid:50', '-x509SVIDTTL', '600', '-dns', 'web.local', '-label', 'team=payments', '--output', 'json');
  assert.equal(created.status, 0, created.stderr);
  const entry = JSON.parse(created.stdout);
  assert.equal(entry.spiffeId, 'spiffe://example.org/web');
  assert.equal(entry.x509SvidTtl, 600);
  assert.deepEqual(entry.labels, { team: 'payments' });

  const pretty = await cli('entry', 'show', '-spiffeID', 'spiffe://example.org/web');
  assert.equal(pretty.status, 0, pretty.stderr);
  assert.match(pretty.stdout, /Found 1 entry/);
  assert.match(pretty.stdout, /Selector\s+: unix:gid:50/);

  const bySelector = await cli('entry', 'show', '-selector', 'unix:uid:1000', '--output', 'json');
  assert.equal(JSON.parse(bySelector.stdout).entries.length, 1);

  const duplicate = await cli('entry', 'create', '-spiffeID', 'spiffe://example.org/web', '-parentID', AGENT, '-selector', 'unix:uid:1000', '-selector', 'unix:gid:50');
  assert.equal(duplicate.status, 1);
  assert.match(duplicate.stderr, /ALREADY_EXISTS/);

  const updated = await cli('entry', 'update', '-entryID', entry.id, '-jwtSVIDTTL', '120', '--output', 'json');
  assert.equal(updated.status, 0, updated.stderr);
  assert.equal(JSON.parse(updated.stdout).jwtSvidTtl, 120);

  const deleted = await cli('entry', 'delete', '-entryID', entry.id);
  assert.equal(deleted.status, 0, deleted.stderr);
  const none = await cli('entry', 'show', '-entryID', entry.id);
  assert.equal(none.status, 1);
  assert.match(none.stderr, /404/);
});

test('entry create refuses what the server refuses, naming the field, and writes nothing', async () => {
  const before = JSON.parse((await cli('entry', 'show', '--output', 'json')).stdout).entries.length;
  const foreign = await cli('entry', 'create', '-spiffeID', 'spiffe://evil.test/web', '-parentID', AGENT, '-selector', 'unix:uid:1');
  assert.equal(foreign.status, 1);
  assert.match(foreign.stderr, /spiffeId/);
  const badSelector = await cli('entry', 'create', '-spiffeID', 'spiffe://example.org/x', '-parentID', AGENT, '-selector', 'UNIX!:uid:1');
  assert.equal(badSelector.status, 1);
  assert.match(badSelector.stderr, /selectors\[0\]/);
  assert.equal(JSON.parse((await cli('entry', 'show', '--output', 'json')).stdout).entries.length, before);
});

test('entry create -data: a batch file (SPIRE snake_case keys), per-entry results', async () => {
  const entries = Array.from({ length: 450 }, (_, i) => ({ spiffe_id: `spiffe://example.org/batch/${i}`, parent_id: AGENT, selectors: [{ type: 'unix', value: `uid:${2000 + i}` }] }));
  writeFileSync(join(cwd, 'batch.json'), JSON.stringify({ entries }));
  const r = await cli('entry', 'create', '-data', 'batch.json');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /Created 450 of 450 entries/);
  const again = await cli('entry', 'create', '-data', 'batch.json', '--output', 'json');
  assert.equal(again.status, 1, 'every entry already exists');
  assert.ok(JSON.parse(again.stdout).results.every((x: { status: string }) => x.status === 'error'));
});

test('token generate, agent list, bundle show, x509 and jwt mint via the server', async () => {
  const token = await cli('token', 'generate', '-spiffeID', 'spiffe://example.org/nodes/rack1', '--output', 'json');
  assert.equal(token.status, 0, token.stderr);
  const generated = JSON.parse(token.stdout);
  assert.match(generated.token, /^[A-Za-z0-9_-]{40,}$/);
  assert.match(generated.agentSpiffeId, /^spiffe:\/\/example\.org\/meshward\/agent\/join_token\//);

  const agents = await cli('agent', 'list', '--output', 'json');
  assert.equal(agents.status, 0, agents.stderr);
  assert.deepEqual(JSON.parse(agents.stdout).agents, []);

  const pem = await cli('bundle', 'show');
  assert.equal(pem.status, 0, pem.stderr);
  assert.match(pem.stdout, /BEGIN CERTIFICATE/);
  writeFileSync(join(cwd, 'server-bundle.pem'), pem.stdout);

  const minted = await cli('x509', 'mint', '-spiffeID', 'spiffe://example.org/ops', '--out', 'ops');
  assert.equal(minted.status, 0, minted.stderr);
  const verified = execFileSync('openssl', ['verify', '-CAfile', join(cwd, 'ops/bundle.pem'), join(cwd, 'ops/svid.pem')], { encoding: 'utf8' });
  assert.match(verified, /OK/);

  const jwt = await cli('jwt', 'mint', '-spiffeID', 'spiffe://example.org/ops', '-audience', 'billing');
  assert.equal(jwt.status, 0, jwt.stderr);
  assert.equal(jwt.stdout.trim().split('.').length, 3);
});

test('an admin SVID reaches the admin API over mTLS (--server); a non-admin SVID is refused', async () => {
  const asAdmin = await runCliAsync(['entry', 'show', '--server', server.urls.api, '--admin-svid-dir', 'ops', '--output', 'json'], { cwd });
  assert.equal(asAdmin.status, 0, asAdmin.stderr);
  assert.ok(Array.isArray(JSON.parse(asAdmin.stdout).entries));

  const mintedOther = await cli('x509', 'mint', '-spiffeID', 'spiffe://example.org/not-admin', '--out', 'other');
  assert.equal(mintedOther.status, 0, mintedOther.stderr);
  const refused = await runCliAsync(['entry', 'show', '--server', server.urls.api, '--admin-svid-dir', 'other'], { cwd });
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /403/);
});

test('revoke deletes the entries of the identity and records the revocation', async () => {
  const created = await cli('entry', 'create', '-spiffeID', 'spiffe://example.org/leaky', '-parentID', AGENT, '-selector', 'unix:uid:4242', '--output', 'json');
  assert.equal(created.status, 0, created.stderr);
  const r = await cli('revoke', '-spiffeID', 'spiffe://example.org/leaky', '--output', 'json');
  assert.equal(r.status, 0, r.stderr);
  const answer = JSON.parse(r.stdout);
  assert.deepEqual(answer.deletedEntries, [JSON.parse(created.stdout).id]);
  assert.equal(JSON.parse((await cli('entry', 'show', '-spiffeID', 'spiffe://example.org/leaky', '--output', 'json')).stdout).entries.length, 0);
});

test('policy put, list and delete; an invalid set is refused whole', async () => {
  const valid = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: payments, namespace: prod }
spec:
  action: ALLOW
  rules:
  - from: [{ source: { principals: ["example.org/ns/prod/sa/orders"] } }]
    to: [{ operation: { methods: ["POST"], paths: ["/payment/*"] } }]
`;
  writeFileSync(join(cwd, 'policy.yaml'), valid);
  const put = await cli('policy', 'put', 'policy.yaml');
  assert.equal(put.status, 0, put.stderr);
  assert.match(put.stdout, /stored prod\/payments/);
  writeFileSync(join(cwd, 'bad.yaml'), valid.replace('payments', 'other') + '---\n' + valid.replace('payments', 'broken').replace('POST', 'POST"]\n        nonsense: ["x'));
  const bad = await cli('policy', 'put', 'bad.yaml');
  assert.equal(bad.status, 1);
  const list = JSON.parse((await cli('policy', 'list', '--output', 'json')).stdout);
  assert.deepEqual(list.policies.map((p: { name: string }) => p.name), ['payments']);
  assert.equal((await cli('policy', 'delete', 'prod/payments')).status, 0);
  assert.equal(JSON.parse((await cli('policy', 'list', '--output', 'json')).stdout).policies.length, 0);
});

test('healthcheck: healthy while the server runs, unhealthy on a dead port', async () => {
  const healthy = await runCliAsync(['healthcheck', '--health-bind', server.urls.health.replace('http://', '')], { cwd });
  assert.equal(healthy.status, 0, healthy.stderr);
  const dead = await runCliAsync(['healthcheck', '--health-bind', '127.0.0.1:1'], { cwd });
  assert.equal(dead.status, 1);
  assert.match(dead.stderr, /unhealthy/);
});

test('no server on the socket: a clear message, exit 1', async () => {
  const r = await runCliAsync(['entry', 'show', '--admin-socket', join(cwd, 'nowhere.sock')], { cwd });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /cannot reach the admin socket .* is "meshward server run" running\?/);
});
