import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { CaError, initCaDirectory, loadCaDirectory, type CertificateAuthority } from '../../src/ca/index.js';
import { verifyX509Svid } from '../../src/spiffe/x509/index.js';
import { at, tempDir } from './helpers.js';

const ID = 'spiffe://example.org/web';
const mode = (path: string): number => statSync(path).mode & 0o777;

function snapshot(dir: string): string {
  return readdirSync(dir)
    .sort()
    .map((name) => `${name}:${readFileSync(join(dir, name), 'utf8')}`)
    .join('\n');
}

/** Every private key's base64 body, line by line, to look for in output. */
function keyFragments(dir: string): string[] {
  const fragments: string[] = [];
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.key'))) {
    const lines = readFileSync(join(dir, name), 'utf8').split('\n').filter((l) => l.length > 0 && !l.startsWith('-----'));
    fragments.push(...lines.map((l) => l.slice(0, 40)));
  }
  return fragments;
}

test('init creates a 0700 directory with 0600 key files, and load finds the same CA', (t) => {
  const dir = join(tempDir(t), 'ca');
  const now = at('2030-01-01T00:00:00Z');
  const ca = initCaDirectory({ dir, trustDomain: 'example.org', now });
  assert.equal(mode(dir), 0o700);
  const names = readdirSync(dir).sort();
  assert.ok(names.includes('ca.json'));
  assert.equal(names.filter((n) => n.endsWith('.key')).length, 2, 'one X.509 CA key and one JWT key');
  assert.equal(names.filter((n) => n.endsWith('.pem')).length, 1);
  assert.ok(!names.some((n) => n.includes('.tmp-')), 'no temp file left');
  for (const name of names) {
    assert.equal(mode(join(dir, name)), 0o600, `${name} is 0600`);
    if (name.endsWith('.key')) assert.match(readFileSync(join(dir, name), 'utf8'), /^-----BEGIN PRIVATE KEY-----\n/);
  }

  const loaded = loadCaDirectory(dir, { now: at('2030-01-01T01:00:00Z') });
  assert.equal(loaded.trustDomain.name, 'example.org');
  assert.equal(loaded.activeX509Authority!.id, ca.activeX509Authority!.id);
  assert.equal(loaded.activeJwtAuthority!.id, ca.activeJwtAuthority!.id);
  assert.deepEqual(loaded.bundle().toJSON(), ca.bundle().toJSON());
  const svid = loaded.mintX509Svid({ spiffeId: ID, publicKey: generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey, now: at('2030-01-01T01:00:00Z') });
  assert.equal(verifyX509Svid(svid.chain, ca.bundle(), { now: at('2030-01-01T01:00:00Z') }).id.toString(), ID);
});

test('load advances rotation and saves it; a later load sees the same state', (t) => {
  const dir = join(tempDir(t), 'ca');
  const ca = initCaDirectory({ dir, trustDomain: 'example.org', ttlSeconds: 3600, now: at('2030-01-01T00:00:00Z') });
  const first = ca.activeX509Authority!.id;
  const mid = loadCaDirectory(dir, { now: at('2030-01-01T00:40:00Z') });
  assert.deepEqual(mid.x509Authorities.map((a) => a.status), ['ACTIVE', 'PREPARED'], '40 min into a 1 h CA: the next one is prepared (at 30 min)');
  assert.equal(mid.sequence, 2);
  const again = loadCaDirectory(dir, { now: at('2030-01-01T00:40:00Z') });
  assert.deepEqual(again.toJSON(), mid.toJSON());
  assert.equal(readdirSync(dir).filter((n) => n.endsWith('.key')).length, 4);
  const activated = loadCaDirectory(dir, { now: at('2030-01-01T00:55:00Z') });
  assert.deepEqual(activated.x509Authorities.map((a) => a.status), ['OLD', 'ACTIVE'], 'activated at 50 min');
  assert.deepEqual(loadCaDirectory(dir, { now: at('2030-01-01T00:55:00Z') }).toJSON(), activated.toJSON());
  // After the first CA expired its files are removed.
  const late = loadCaDirectory(dir, { now: at('2030-01-01T01:10:00Z') });
  assert.ok(!late.x509Authorities.some((a) => a.id === first));
  assert.ok(!readdirSync(dir).some((n) => n.includes(first)));
  for (const name of readdirSync(dir)) assert.equal(mode(join(dir, name)), 0o600);
});

test('init on a directory that already holds a CA is refused and changes nothing', (t) => {
  const dir = join(tempDir(t), 'ca');
  initCaDirectory({ dir, trustDomain: 'example.org' });
  const before = snapshot(dir);
  assert.throws(() => initCaDirectory({ dir, trustDomain: 'example.org' }), { code: 'ERR_CA_ALREADY_INITIALIZED' });
  assert.throws(() => initCaDirectory({ dir, trustDomain: 'other.org', keyType: 'rsa-2048' }), { code: 'ERR_CA_ALREADY_INITIALIZED' });
  assert.equal(snapshot(dir), before);
});

test('a key file readable by group or others is refused', (t) => {
  const dir = join(tempDir(t), 'ca');
  initCaDirectory({ dir, trustDomain: 'example.org' });
  const keyFile = readdirSync(dir).find((n) => n.startsWith('x509-') && n.endsWith('.key'))!;
  chmodSync(join(dir, keyFile), 0o644);
  assert.throws(
    () => loadCaDirectory(dir),
    (err: unknown) => err instanceof CaError && err.code === 'ERR_CA_KEY_FILE_PERMISSIONS' && err.message.includes(keyFile) && err.message.includes('644'),
  );
  chmodSync(join(dir, keyFile), 0o600);
  assert.ok(loadCaDirectory(dir));
});

test('init refuses an existing directory open to group or others', (t) => {
  const dir = tempDir(t);
  chmodSync(dir, 0o755);
  assert.throws(() => initCaDirectory({ dir, trustDomain: 'example.org' }), { code: 'ERR_CA_BAD_OPTION' });
  assert.deepEqual(readdirSync(dir), []);
});

test('bad init options are refused before anything is written', (t) => {
  const base = tempDir(t);
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ trustDomain: 'Not Valid' }, 'ERR_CA_BAD_OPTION'],
    [{ trustDomain: 'example.org', ttlSeconds: 0 }, 'ERR_CA_BAD_TTL'],
    [{ trustDomain: 'example.org', ttlSeconds: 1e15 }, 'ERR_CA_BAD_TTL'],
    [{ trustDomain: 'example.org', keyType: 'dsa-1024' }, 'ERR_CA_BAD_KEY_TYPE'],
    [{ trustDomain: 'example.org', upstreamCertFile: join(base, 'missing.pem') }, 'ERR_CA_BAD_OPTION'],
    [{ trustDomain: 'example.org', upstreamCertFile: join(base, 'missing.pem'), upstreamKeyFile: join(base, 'missing.key') }, 'ERR_CA_IO'],
  ];
  for (const [i, [options, code]] of cases.entries()) {
    const dir = join(base, `ca${i}`);
    assert.throws(() => initCaDirectory({ dir, ...options } as never), (err: unknown) => err instanceof CaError && err.code === code, JSON.stringify(options));
    assert.equal(existsSync(dir), false, `nothing written for ${JSON.stringify(options)}`);
  }
});

test('load reports a missing or corrupt CA clearly', (t) => {
  const base = tempDir(t);
  assert.throws(() => loadCaDirectory(join(base, 'nope')), { code: 'ERR_CA_NOT_INITIALIZED' });
  const dir = join(base, 'ca');
  initCaDirectory({ dir, trustDomain: 'example.org' });
  const state = JSON.parse(readFileSync(join(dir, 'ca.json'), 'utf8'));
  writeFileSync(join(dir, 'ca.json'), JSON.stringify({ ...state, x509: [{ id: '../../etc/passwd', status: 'ACTIVE' }] }));
  assert.throws(() => loadCaDirectory(dir), { code: 'ERR_CA_MALFORMED_STATE' });
  writeFileSync(join(dir, 'ca.json'), '{not json');
  assert.throws(() => loadCaDirectory(dir), { code: 'ERR_CA_MALFORMED_STATE' });
});

test('no private key material in inspect output, JSON or error messages', (t) => {
  const dir = join(tempDir(t), 'ca');
  const ca: CertificateAuthority = initCaDirectory({ dir, trustDomain: 'example.org' });
  const fragments = keyFragments(dir);
  assert.ok(fragments.length > 0);
  const outputs = [inspect(ca, { depth: 10, showHidden: true }), JSON.stringify(ca), inspect(ca.x509Authorities, { depth: 10, showHidden: true }), inspect(ca.jwtAuthorities, { depth: 10, showHidden: true })];
  // A corrupt key file (a real key with a damaged middle) must not be echoed.
  const keyFile = readdirSync(dir).find((n) => n.startsWith('jwt-') && n.endsWith('.key'))!;
  const pem = readFileSync(join(dir, keyFile), 'utf8');
  writeFileSync(join(dir, keyFile), pem.replace(/\n([A-Za-z0-9+/]{10})/, '\n!!!!!!!!!!'), { mode: 0o600 });
  try {
    loadCaDirectory(dir);
    assert.fail('a corrupt key must not load');
  } catch (err) {
    assert.equal((err as CaError).code, 'ERR_CA_MALFORMED_KEY_FILE');
    outputs.push((err as Error).message, inspect(err, { depth: 10 }));
  }
  for (const out of outputs) {
    for (const fragment of fragments) assert.ok(!out.includes(fragment), 'output holds private key bytes');
    assert.ok(!out.includes('PRIVATE KEY'), 'output holds a PEM key');
  }
  assert.ok(!inspect(ca).includes('privateKey'));
});
