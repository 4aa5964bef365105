import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Bundle } from '../../src/spiffe/bundle.js';
import { runCli } from './run-cli.js';

const cwd = mkdtempSync(join(tmpdir(), 'meshward-cli-'));
const mode = (path: string) => statSync(path).mode & 0o777;

test('ca init creates the CA with private files, and refuses to run twice', () => {
  const r = runCli(['ca', 'init', '--trust-domain', 'example.org'], { cwd });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /created the CA of trust domain example\.org/);
  const dir = join(cwd, '.meshward/ca');
  assert.equal(mode(dir), 0o700);
  const keys = readdirSync(dir, { recursive: true }).map(String).filter((f) => f.endsWith('.key'));
  assert.ok(keys.length >= 2, 'an X.509 and a JWT key');
  for (const key of keys) assert.equal(mode(join(dir, key)), 0o600, key);
  const before = readdirSync(dir, { recursive: true }).map(String).sort();
  const again = runCli(['ca', 'init', '--trust-domain', 'example.org'], { cwd });
  assert.equal(again.status, 2);
  assert.match(again.stderr, /already/);
  assert.deepEqual(readdirSync(dir, { recursive: true }).map(String).sort(), before);
  for (const key of keys) assert.ok(!again.stderr.includes(readFileSync(join(dir, key), 'utf8').split('\n')[1]!));
});

test('x509 mint writes the chain, a 0600 key and the bundle; openssl accepts the SVID', () => {
  const r = runCli(['x509', 'mint', '--dir', '.meshward/ca', '--spiffe-id', 'spiffe://example.org/web', '--dns', 'web.local', '--out', 'svid'], { cwd });
  assert.equal(r.status, 0, r.stderr);
  const out = join(cwd, 'svid');
  assert.equal(mode(join(out, 'svid.key')), 0o600);
  const verified = execFileSync('openssl', ['verify', '-CAfile', join(out, 'bundle.pem'), join(out, 'svid.pem')], { encoding: 'utf8' });
  assert.match(verified, /OK/);
  const text = execFileSync('openssl', ['x509', '-in', join(out, 'svid.pem'), '-noout', '-text'], { encoding: 'utf8' });
  assert.match(text, /URI:spiffe:\/\/example\.org\/web/);
  assert.match(text, /DNS:web\.local/);
  assert.match(text, /CA:FALSE/);
});

test('svid verify: valid with a PEM or SPIFFE bundle, exit 1 for a wrong ID or a foreign CA', () => {
  const ok = runCli(['svid', 'verify', '--cert', 'svid/svid.pem', '--bundle', 'svid/bundle.pem'], { cwd });
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /SPIFFE ID: spiffe:\/\/example\.org\/web/);
  const json = runCli(['svid', 'verify', '--cert', 'svid/svid.pem', '--bundle', 'svid/bundle.pem', '--spiffe-id', 'spiffe://example.org/web', '--output', 'json'], { cwd });
  assert.equal(json.status, 0, json.stderr);
  assert.equal(JSON.parse(json.stdout).spiffeId, 'spiffe://example.org/web');

  const shown = runCli(['bundle', 'show', '--dir', '.meshward/ca', '--format', 'spiffe'], { cwd });
  assert.equal(shown.status, 0, shown.stderr);
  writeFileSync(join(cwd, 'bundle.json'), shown.stdout);
  const bundle = Bundle.parse(shown.stdout, 'example.org');
  assert.equal(bundle.jwtAuthorities().size, 1);
  assert.equal(runCli(['svid', 'verify', '--cert', 'svid/svid.pem', '--bundle', 'bundle.json'], { cwd }).status, 0);

  const wrongId = runCli(['svid', 'verify', '--cert', 'svid/svid.pem', '--bundle', 'svid/bundle.pem', '--spiffe-id', 'spiffe://example.org/db'], { cwd });
  assert.equal(wrongId.status, 1);
  assert.match(wrongId.stderr, /not the expected spiffe:\/\/example\.org\/db/);

  assert.equal(runCli(['ca', 'init', '--trust-domain', 'example.org', '--dir', 'other-ca'], { cwd }).status, 0);
  const foreign = runCli(['svid', 'verify', '--cert', 'svid/svid.pem', '--bundle', 'other.pem'], { cwd: writeOtherBundle() });
  assert.equal(foreign.status, 1, foreign.stderr);
  assert.match(foreign.stderr, /invalid SVID/);

  const wrongTd = runCli(['svid', 'verify', '--cert', 'svid/svid.pem', '--bundle', 'svid/bundle.pem', '--trust-domain', 'other.org'], { cwd });
  assert.equal(wrongTd.status, 1);
});

function writeOtherBundle(): string {
  const shown = runCli(['bundle', 'show', '--dir', 'other-ca'], { cwd });
  writeFileSync(join(cwd, 'other.pem'), shown.stdout);
  return cwd;
}

test('svid verify refuses a PEM bundle whose trust domain it cannot tell', () => {
  const dir = mkdtempSync(join(tmpdir(), 'meshward-cli-plain-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'plain.pem'), '-subj', '/CN=plain', '-days', '1'], { stdio: 'ignore' });
  const r = runCli(['svid', 'verify', '--cert', join(cwd, 'svid/svid.pem'), '--bundle', join(dir, 'plain.pem')], { cwd });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /cannot tell its trust domain.*--trust-domain/);
});

test('jwt mint and verify; a wrong audience exits 1; the token can come from stdin', () => {
  const minted = runCli(['jwt', 'mint', '--dir', '.meshward/ca', '--spiffe-id', 'spiffe://example.org/web', '--audience', 'orders', '--ttl', '2m'], { cwd });
  assert.equal(minted.status, 0, minted.stderr);
  const token = minted.stdout.trim();
  assert.equal(token.split('.').length, 3);
  const ok = runCli(['jwt', 'verify', '--token', token, '--bundle', 'bundle.json', '--audience', 'orders', '--output', 'json'], { cwd });
  assert.equal(ok.status, 0, ok.stderr);
  const claims = JSON.parse(ok.stdout).claims;
  assert.equal(claims.sub, 'spiffe://example.org/web');
  assert.deepEqual(claims.aud, ['orders']);
  assert.ok(claims.exp - claims.iat <= 120);
  const viaStdin = runCli(['jwt', 'verify', '--token', '-', '--bundle', 'bundle.json', '--audience', 'orders'], { cwd, input: token + '\n' });
  assert.equal(viaStdin.status, 0, viaStdin.stderr);
  const wrongAud = runCli(['jwt', 'verify', '--token', token, '--bundle', 'bundle.json', '--audience', 'billing'], { cwd });
  assert.equal(wrongAud.status, 1);
  assert.match(wrongAud.stderr, /invalid JWT-SVID/);
  assert.ok(!wrongAud.stderr.includes(token), 'the token never appears in an error');
  const tampered = runCli(['jwt', 'verify', '--token', token.slice(0, -4) + 'AAAA', '--bundle', 'bundle.json', '--audience', 'orders'], { cwd });
  assert.equal(tampered.status, 1);
  const pemBundle = runCli(['jwt', 'verify', '--token', token, '--bundle', 'svid/bundle.pem', '--audience', 'orders'], { cwd });
  assert.equal(pemBundle.status, 2);
});

const badCalls: Array<[string, string[], RegExp]> = [
  ['an invalid SPIFFE ID', ['x509', 'mint', '--spiffe-id', 'spiffe://Example.org/web', '--out', 'bad1', '--dir', '.meshward/ca'], /--spiffe-id: spiffeid: trust domain characters/],
  ['an ID without a path', ['x509', 'mint', '--spiffe-id', 'spiffe://example.org', '--out', 'bad2', '--dir', '.meshward/ca'], /path/],
  ['an ID of another trust domain', ['x509', 'mint', '--spiffe-id', 'spiffe://evil.test/web', '--out', 'bad3', '--dir', '.meshward/ca'], /trust domain/],
  ['a bad TTL', ['x509', 'mint', '--spiffe-id', 'spiffe://example.org/web', '--ttl', 'soon', '--out', 'bad4', '--dir', '.meshward/ca'], /--ttl: "soon" is not a duration/],
  ['a bad DNS name', ['x509', 'mint', '--spiffe-id', 'spiffe://example.org/web', '--dns', 'bad name', '--out', 'bad5', '--dir', '.meshward/ca'], /--dns: "bad name"/],
  ['a missing CA directory', ['x509', 'mint', '--spiffe-id', 'spiffe://example.org/web', '--dir', 'nowhere', '--out', 'bad6'], /--dir nowhere/],
  ['a missing required flag', ['jwt', 'mint', '--dir', '.meshward/ca', '--spiffe-id', 'spiffe://example.org/web'], /--audience/],
  ['an unknown key type', ['ca', 'init', '--trust-domain', 'x.org', '--dir', 'bad7', '--key-type', 'ed25519'], /--key-type: "ed25519" is not one of/],
  ['a lone upstream flag', ['ca', 'init', '--trust-domain', 'x.org', '--dir', 'bad8', '--upstream-cert', 'x.pem'], /go together/],
  ['an unreadable cert file', ['svid', 'verify', '--cert', 'missing.pem', '--bundle', 'svid/bundle.pem'], /--cert missing\.pem: cannot read the file \(ENOENT\)/],
  ['a garbage bundle', ['svid', 'verify', '--cert', 'svid/svid.pem', '--bundle', 'svid/svid.key'], /--bundle/],
  ['an unknown format', ['bundle', 'show', '--dir', '.meshward/ca', '--format', 'xml'], /--format: "xml"/],
  ['an unknown command', ['frobnicate'], /unknown command/],
  ['a bad server URL', ['entry', 'show', '--server', 'http://127.0.0.1:1/x'], /--server: .* must be https/],
  ['a selector without a value', ['entry', 'create', '-spiffeID', 'spiffe://example.org/w', '-parentID', 'spiffe://example.org/a', '-selector', 'unix'], /--selector: "unix" is not type:value/],
  ['an entry without selectors', ['entry', 'create', '-spiffeID', 'spiffe://example.org/w', '-parentID', 'spiffe://example.org/a'], /needs --selector/],
  ['a malformed policy reference', ['policy', 'delete', 'no-slash'], /not namespace\/name/],
];

for (const [name, args, message] of badCalls) {
  test(`bad call: ${name} exits 2, names the problem and writes nothing`, () => {
    const before = readdirSync(cwd).sort();
    const r = runCli(args, { cwd });
    assert.equal(r.status, 2, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stderr, message);
    assert.deepEqual(readdirSync(cwd).sort(), before);
  });
}

test('demo (npm start) creates a CA, mints and verifies both SVID kinds', () => {
  const dir = mkdtempSync(join(tmpdir(), 'meshward-demo-'));
  const r = runCli(['demo'], { cwd: dir });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /created the CA of trust domain example\.org/);
  assert.match(r.stdout, /verified the X\.509-SVID/);
  assert.match(r.stdout, /validated the JWT-SVID/);
  assert.match(r.stdout, /refused/);
  assert.ok(existsSync(join(dir, '.meshward/demo-svid/svid.pem')));
  const second = runCli(['demo'], { cwd: dir });
  assert.equal(second.status, 0, second.stderr);
  assert.match(second.stdout, /loaded the CA/);
});
