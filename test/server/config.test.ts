/** Server configuration: sources and precedence, every error naming its key, the CLI's exit codes. */
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadServerConfig } from '../../src/server/config.js';
import { ConfigError } from '../../src/server/server-error.js';
import { runServerSync, startServerProcess } from './support/process.js';
import { tempDir } from './support/runtime.js';

const expectKey = (fn: () => unknown, key: string, code?: string): void => {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ConfigError, String(err));
    assert.equal(err.key, key);
    if (code !== undefined) assert.equal(err.code, code);
    return true;
  });
};

test('defaults, then the file, then variables, then flags', (t) => {
  const dir = tempDir(t);
  const c0 = loadServerConfig({ env: {}, flags: { trust_domain: 'example.org' }, cwd: dir });
  assert.equal(c0.dataDir, join(dir, '.meshward'));
  assert.equal(c0.adminSocket, join(dir, '.meshward', 'admin.sock'));
  assert.equal(c0.datastore, 'sqlite');
  assert.deepEqual(c0.bind, { host: '127.0.0.1', port: 8081 });
  assert.deepEqual(c0.healthBind, { host: '127.0.0.1', port: 8082 });
  assert.equal(c0.caTtlSeconds, 86400);
  assert.equal(c0.defaultX509SvidTtlSeconds, 3600);
  assert.equal(c0.defaultJwtSvidTtlSeconds, 300);
  assert.equal(c0.caKeyType, 'ec-p256');
  assert.deepEqual(c0.rateLimits, { attestationPerSecond: 1, attestationBurst: 2, signingPerSecond: 500 });
  assert.equal(c0.kek, undefined);

  const file = join(dir, 'server.yaml');
  writeFileSync(
    file,
    [
      'trust_domain: file.example',
      'data_dir: data',
      'bind: 0.0.0.0:9000',
      'ca_ttl: 48h',
      'default_x509_svid_ttl: 30m',
      'admin_ids: [spiffe://file.example/admin]',
      'rate_limits:',
      '  signing_per_second: 50',
      'federation:',
      '  bundle_endpoint: { port: 8443, profile: https_spiffe }',
      '  federates_with:',
      '    - { trust_domain: other.org, bundle_endpoint_url: "https://other.org:8443", profile: https_spiffe, endpoint_spiffe_id: "spiffe://other.org/meshward/server" }',
    ].join('\n'),
  );
  const c1 = loadServerConfig({ configFile: file, env: {}, cwd: '/' });
  assert.equal(c1.trustDomain.name, 'file.example');
  assert.equal(c1.dataDir, join(dir, 'data'), 'relative to the file');
  assert.deepEqual(c1.bind, { host: '0.0.0.0', port: 9000 });
  assert.equal(c1.caTtlSeconds, 172800);
  assert.equal(c1.defaultX509SvidTtlSeconds, 1800);
  assert.deepEqual(c1.adminIds, ['spiffe://file.example/admin']);
  assert.equal(c1.rateLimits.signingPerSecond, 50);
  assert.equal(c1.federation.bundleEndpoint?.port, 8443);
  assert.equal(c1.federation.federatesWith?.[0]?.endpointSpiffeId, 'spiffe://other.org/meshward/server');

  const c2 = loadServerConfig({ configFile: file, env: { MESHWARD_CA_TTL: '12h', MESHWARD_BIND: '127.0.0.1:1' }, flags: { bind: '[::1]:2' }, cwd: dir });
  assert.equal(c2.caTtlSeconds, 43200, 'variable over file');
  assert.deepEqual(c2.bind, { host: '::1', port: 2 }, 'flag over variable');
  const c3 = loadServerConfig({ env: { MESHWARD_TRUST_DOMAIN: 'env.example', MESHWARD_ADMIN_IDS: 'spiffe://env.example/a, spiffe://env.example/b', MESHWARD_KEK: 'sixteen-bytes-kek!' }, cwd: dir });
  assert.deepEqual(c3.adminIds, ['spiffe://env.example/a', 'spiffe://env.example/b']);
  assert.equal(c3.kek?.toString(), 'sixteen-bytes-kek!');
});

test('invalid configuration names the key', (t) => {
  const dir = tempDir(t);
  const td = { trust_domain: 'example.org' };
  expectKey(() => loadServerConfig({ env: {}, cwd: dir }), 'trust_domain');
  expectKey(() => loadServerConfig({ env: {}, flags: { trust_domain: 'Bad Domain!' } }), 'trust_domain');
  expectKey(() => loadServerConfig({ env: {}, flags: { trust_domain: 'spiffe://example.org' } }), 'trust_domain');
  expectKey(() => loadServerConfig({ env: {}, flags: { ...td, ca_ttl: 'soon' } }), 'ca_ttl');
  expectKey(() => loadServerConfig({ env: { MESHWARD_DEFAULT_JWT_SVID_TTL: '-5m' }, flags: td }), 'default_jwt_svid_ttl');
  expectKey(() => loadServerConfig({ env: {}, flags: { ...td, bind: 'localhost' } }), 'bind');
  expectKey(() => loadServerConfig({ env: {}, flags: { ...td, bind: '127.0.0.1:70000' } }), 'bind');
  expectKey(() => loadServerConfig({ env: {}, flags: { ...td, datastore: 'mysql://x' } }), 'datastore');
  expectKey(() => loadServerConfig({ env: {}, flags: { ...td, ca_key_type: 'ed25519' } }), 'ca_key_type');
  expectKey(() => loadServerConfig({ env: {}, flags: { ...td, admin_ids: 'spiffe://example.org/a,not-an-id' } }), 'admin_ids');
  expectKey(() => loadServerConfig({ env: {}, flags: { ...td, 'rate_limits.signing_per_second': 'lots' } }), 'rate_limits.signing_per_second');
  expectKey(() => loadServerConfig({ env: {}, flags: { ...td, upstream_cert_file: '/x.pem' } }), 'upstream_key_file');
  expectKey(() => loadServerConfig({ env: { MESHWARD_KEK: 'short' }, flags: td }), 'MESHWARD_KEK');

  const file = (name: string, text: string): string => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  expectKey(() => loadServerConfig({ env: {}, configFile: file('a.yaml', 'trust_domain: example.org\ncolour: blue\n') }), 'colour', 'ERR_CONFIG_UNKNOWN_KEY');
  expectKey(() => loadServerConfig({ env: {}, configFile: file('b.yaml', 'trust_domain: example.org\nrate_limits: { signing: 5 }\n') }), 'rate_limits.signing', 'ERR_CONFIG_UNKNOWN_KEY');
  expectKey(() => loadServerConfig({ env: {}, configFile: file('c.yaml', 'trust_domain: [example.org\n') }), 'config', 'ERR_CONFIG_FILE');
  expectKey(() => loadServerConfig({ env: {}, configFile: file('d.yaml', 'trust_domain: example.org\ntrust_domain: other.org\n') }), 'config', 'ERR_CONFIG_FILE');
  expectKey(() => loadServerConfig({ env: {}, configFile: file('e.yaml', 'trust_domain: example.org\nca_ttl: 10\n') }), 'ca_ttl');
  expectKey(() => loadServerConfig({ env: {}, configFile: file('f.yaml', 'trust_domain: example.org\nkek: hunter2hunter2hunter2\n') }), 'kek', 'ERR_CONFIG_UNKNOWN_KEY');
  expectKey(() => loadServerConfig({ env: {}, configFile: file('g.yaml', 'trust_domain: example.org\nfederation: { federates_with: [{ trust_domain: other.org, bundle_endpoint_url: "http://x", profile: https_web }] }\n') }), 'federation.federates_with[0].bundle_endpoint_url');
  expectKey(() => loadServerConfig({ env: {}, configFile: join(dir, 'missing.yaml') }), 'config', 'ERR_CONFIG_FILE');
});

test('the CLI exits 2 on invalid configuration, naming the key, and writes nothing', (t) => {
  const dir = tempDir(t);
  const data = join(dir, 'data');
  const bad = runServerSync(['--trust-domain', 'example.org', '--data-dir', data, '--ca-ttl', 'forever']);
  assert.equal(bad.status, 2, bad.stderr);
  assert.match(bad.stderr, /ca_ttl/);
  const yaml = join(dir, 'bad.yaml');
  writeFileSync(yaml, 'trust_domain: example.org\nunknown_thing: 1\n');
  const unknown = runServerSync(['--config', yaml]);
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /unknown_thing/);
  assert.equal(existsSync(data), false, 'nothing written');
});

test('the CLI exits 1 with a clear message when the datastore is unreachable at start', async (t) => {
  const dir = tempDir(t);
  const r = runServerSync(['--trust-domain', 'example.org', '--data-dir', join(dir, 'data'), '--bind', '127.0.0.1:0', '--health-bind', '127.0.0.1:0', '--datastore', 'postgres://meshward:s3cret-pw@127.0.0.1:1/none'], { MESHWARD_LOG_LEVEL: 'silent' });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /datastore/);
  assert.doesNotMatch(r.stderr, /s3cret-pw/);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
});

test('meshward server run prints where it listens and stops cleanly on SIGTERM', async (t) => {
  const dir = tempDir(t);
  const proc = await startServerProcess(['--trust-domain', 'example.org', '--data-dir', join(dir, 'data'), '--bind', '127.0.0.1:0', '--health-bind', '127.0.0.1:0', '--print-join-token'], { MESHWARD_LOG_LEVEL: 'silent' });
  t.after(() => proc.kill('SIGKILL'));
  assert.match(proc.api, /^https:\/\/127\.0\.0\.1:\d+$/);
  const res = await fetch(`${proc.health}/ready`);
  assert.equal(res.status, 200);
  await new Promise((r) => setTimeout(r, 200));
  assert.match(proc.stdout(), /join token for an agent .*: [0-9a-f]{64}\n/);
  assert.doesNotMatch(proc.stdout(), /PRIVATE KEY/);
  assert.equal(await proc.kill('SIGTERM'), 0);
});
