import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, generateKeyPairSync } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CaError, CertificateAuthority, initCaDirectory, loadCaDirectory, UpstreamAuthority } from '../../src/ca/index.js';
import { verifyX509Svid } from '../../src/spiffe/x509/index.js';
import { openssl, opensslTry, tempDir, writePem } from './helpers.js';

const ID = 'spiffe://example.org/web';
const CA_EXT = ['-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'];

function ecKey(): string[] {
  return ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
}

/** A self-signed upstream root made with openssl. */
function makeRoot(dir: string, name = 'root', extra: string[] = CA_EXT): { cert: string; key: string } {
  const cert = join(dir, `${name}.pem`);
  const key = join(dir, `${name}.key`);
  openssl(['req', '-x509', ...ecKey(), '-keyout', key, '-out', cert, '-days', '30', '-subj', `/O=Upstream ${name}`, ...extra]);
  chmodSync(key, 0o600);
  return { cert, key };
}

/** An upstream intermediate under `root`, made with openssl. */
function makeIntermediate(dir: string, root: { cert: string; key: string }): { cert: string; key: string } {
  const key = join(dir, 'inter.key');
  const csr = join(dir, 'inter.csr');
  const cert = join(dir, 'inter.pem');
  openssl(['req', '-new', ...ecKey(), '-keyout', key, '-out', csr, '-subj', '/O=Upstream intermediate']);
  chmodSync(key, 0o600);
  const ext = join(dir, 'ext.cnf');
  writeFileSync(ext, '[v3]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n');
  openssl(['x509', '-req', '-in', csr, '-CA', root.cert, '-CAkey', root.key, '-CAcreateserial', '-days', '20', '-extfile', ext, '-extensions', 'v3', '-out', cert]);
  return { cert, key };
}

test('a CA under an upstream root: chain [leaf, ourCa], bundle = the root; openssl and our verifier accept it', (t) => {
  const dir = tempDir(t);
  const root = makeRoot(dir);
  const upstream = UpstreamAuthority.fromPem(readFileSync(root.cert, 'utf8'), readFileSync(root.key, 'utf8'));
  for (const keyType of ['ec-p256', 'ec-p384', 'rsa-2048'] as const) {
    const ca = CertificateAuthority.create({ trustDomain: 'example.org', keyType, upstream });
    const mint = ca.mintX509Svid({ spiffeId: ID, publicKey: generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey });
    assert.equal(mint.chain.length, 2);
    assert.ok(mint.chain[1]!.equals(ca.activeX509Authority!.certificate));
    const bundle = ca.bundle();
    assert.deepEqual(bundle.x509Authorities(), upstream.roots);
    const ours = new X509Certificate(mint.chain[1]!);
    assert.equal(ours.ca, true);
    assert.equal(ours.subjectAltName, 'URI:spiffe://example.org');
    assert.ok(ours.checkIssued(new X509Certificate(upstream.roots[0]!)));
    assert.ok(new Date(ours.validTo) <= new Date(new X509Certificate(upstream.roots[0]!).validTo), 'our CA never outlives the upstream');
    writePem(join(dir, 'svid.pem'), 'CERTIFICATE', [mint.certificate]);
    writePem(join(dir, 'intermediates.pem'), 'CERTIFICATE', mint.chain.slice(1));
    writeFileSync(join(dir, 'bundle.pem'), bundle.toPem());
    const r = opensslTry(['verify', '-CAfile', 'bundle.pem', '-untrusted', 'intermediates.pem', 'svid.pem'], dir);
    assert.ok(r.ok, r.output);
    assert.equal(verifyX509Svid(mint.chain, bundle).id.toString(), ID);
    // Without the intermediate the leaf does not verify.
    assert.ok(!opensslTry(['verify', '-CAfile', 'bundle.pem', 'svid.pem'], dir).ok);
  }
});

test('a CA under an upstream intermediate: chain [leaf, ourCa, upstreamIntermediate], bundle = the root only', (t) => {
  const dir = tempDir(t);
  const root = makeRoot(dir);
  const inter = makeIntermediate(dir, root);
  const certFile = join(dir, 'upstream-chain.pem');
  writeFileSync(certFile, readFileSync(inter.cert, 'utf8') + readFileSync(root.cert, 'utf8'));
  const caDir = join(dir, 'ca');
  const ca = initCaDirectory({ dir: caDir, trustDomain: 'example.org', upstreamCertFile: certFile, upstreamKeyFile: inter.key });
  const mint = ca.mintX509Svid({ spiffeId: ID, publicKey: generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey });
  assert.equal(mint.chain.length, 3);
  const bundle = ca.bundle();
  assert.equal(bundle.x509Authorities().length, 1);
  assert.equal(new X509Certificate(bundle.x509Authorities()[0]!).subject, 'O=Upstream root');
  writePem(join(dir, 'svid.pem'), 'CERTIFICATE', [mint.certificate]);
  writePem(join(dir, 'intermediates.pem'), 'CERTIFICATE', mint.chain.slice(1));
  writeFileSync(join(dir, 'bundle.pem'), bundle.toPem());
  const r = opensslTry(['verify', '-CAfile', 'bundle.pem', '-untrusted', 'intermediates.pem', 'svid.pem'], dir);
  assert.ok(r.ok, r.output);
  assert.equal(verifyX509Svid(mint.chain, bundle).id.toString(), ID);
  // A restart finds the same CA and upstream chain.
  const loaded = loadCaDirectory(caDir);
  assert.equal(loaded.activeX509Authority!.id, ca.activeX509Authority!.id);
  assert.deepEqual(loaded.bundle().toJSON(), bundle.toJSON());
  const again = loaded.mintX509Svid({ spiffeId: ID, publicKey: generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey });
  assert.equal(again.chain.length, 3);
});

test('bad upstream material: specific codes, nothing written', (t) => {
  const dir = tempDir(t);
  const root = makeRoot(dir);
  const other = makeRoot(dir, 'other');
  const leafLike = makeRoot(dir, 'notca', ['-addext', 'basicConstraints=critical,CA:FALSE']);
  const inter = makeIntermediate(dir, root);
  const garbage = join(dir, 'garbage.pem');
  writeFileSync(garbage, '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
  const notPem = join(dir, 'not.pem');
  writeFileSync(notPem, 'hello');
  const badKey = join(dir, 'bad.key');
  writeFileSync(badKey, '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n', { mode: 0o600 });
  const openKey = join(dir, 'open.key');
  writeFileSync(openKey, readFileSync(root.key), { mode: 0o600 });
  chmodSync(openKey, 0o644);
  const cases: Array<[string, string, string, string]> = [
    ['malformed certificate', garbage, root.key, 'ERR_CA_MALFORMED_UPSTREAM'],
    ['not PEM', notPem, root.key, 'ERR_CA_MALFORMED_UPSTREAM'],
    ['malformed key', root.cert, badKey, 'ERR_CA_MALFORMED_UPSTREAM'],
    ['key of another certificate', root.cert, other.key, 'ERR_CA_UPSTREAM_KEY_MISMATCH'],
    ['not a CA', leafLike.cert, leafLike.key, 'ERR_CA_UPSTREAM_NOT_CA'],
    ['intermediate without its root', inter.cert, inter.key, 'ERR_CA_UPSTREAM_NO_ROOT'],
    ['key readable by others', root.cert, openKey, 'ERR_CA_KEY_FILE_PERMISSIONS'],
  ];
  const wrongChain = join(dir, 'wrong-chain.pem');
  writeFileSync(wrongChain, readFileSync(inter.cert, 'utf8') + readFileSync(other.cert, 'utf8'));
  cases.push(['chain with the wrong root', wrongChain, inter.key, 'ERR_CA_UPSTREAM_BAD_CHAIN']);
  for (const [i, [name, certFile, keyFile, code]] of cases.entries()) {
    const caDir = join(dir, `ca${i}`);
    assert.throws(
      () => initCaDirectory({ dir: caDir, trustDomain: 'example.org', upstreamCertFile: certFile, upstreamKeyFile: keyFile }),
      (err: unknown) => err instanceof CaError && err.code === code,
      name,
    );
    assert.equal(existsSync(caDir), false, `${name}: nothing written`);
  }
});

test('an expired upstream is refused', (t) => {
  const dir = tempDir(t);
  const root = makeRoot(dir);
  const later = new Date(Date.now() + 60 * 86_400_000);
  assert.throws(() => UpstreamAuthority.fromPem(readFileSync(root.cert, 'utf8'), readFileSync(root.key, 'utf8'), later), { code: 'ERR_CA_UPSTREAM_EXPIRED' });
});

test('near the upstream expiry our CA is capped, no useless successor is prepared, and then advance fails clearly', (t) => {
  const dir = tempDir(t);
  const root = makeRoot(dir);
  const rootNotAfter = new Date(new X509Certificate(readFileSync(root.cert)).validTo);
  const start = new Date(rootNotAfter.getTime() - 12 * 3_600_000);
  const upstream = UpstreamAuthority.fromPem(readFileSync(root.cert, 'utf8'), readFileSync(root.key, 'utf8'), start);
  const ca = CertificateAuthority.create({ trustDomain: 'example.org', ttlSeconds: 86400, upstream, now: start });
  assert.equal(ca.activeX509Authority!.notAfter.getTime(), rootNotAfter.getTime());
  ca.advance(new Date(rootNotAfter.getTime() - 3_600_000));
  assert.deepEqual(ca.x509Authorities.map((a) => a.status), ['ACTIVE'], 'a successor would expire with the upstream too');
  assert.throws(() => ca.advance(new Date(rootNotAfter.getTime() + 1000)), { code: 'ERR_CA_UPSTREAM_EXPIRED' });
});
