/**
 * Interop with OpenSSL: SVIDs made by `openssl req`/`openssl x509` with an
 * extfile are accepted when they follow the profile and rejected when not;
 * and `openssl verify` accepts what our test CA makes, so both sides agree.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Bundle } from '../../../src/spiffe/bundle.js';
import { X509Svid, verifyX509Svid } from '../../../src/spiffe/x509/index.js';
import { createTestCa } from '../../helpers/test-ca.js';
import { assertX509Code } from './assert-code.js';

const OPENSSL = '/usr/bin/openssl';
const dir = mkdtempSync(join(tmpdir(), 'meshward-openssl-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const file = (name: string): string => join(dir, name);
const openssl = (...args: string[]): string => execFileSync(OPENSSL, args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

function writeExt(name: string, lines: string[]): string {
  writeFileSync(file(name), lines.join('\n') + '\n');
  return file(name);
}

// A root CA for example.org, made entirely by openssl.
openssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', file('ca.sec1'));
openssl('pkcs8', '-topk8', '-nocrypt', '-in', file('ca.sec1'), '-out', file('ca.key'));
const caExt = writeExt('ca.ext', [
  'basicConstraints = critical, CA:true',
  'keyUsage = critical, keyCertSign, cRLSign',
  'subjectAltName = URI:spiffe://example.org',
  'subjectKeyIdentifier = hash',
]);
openssl('req', '-new', '-key', file('ca.key'), '-subj', '/O=SPIFFE/CN=openssl root', '-config', '/dev/null', '-out', file('ca.csr'));
openssl('x509', '-req', '-in', file('ca.csr'), '-signkey', file('ca.key'), '-days', '1', '-sha256', '-extfile', caExt, '-out', file('ca.pem'));
const bundle = Bundle.fromX509Pem(readFileSync(file('ca.pem'), 'utf8'), 'example.org');

/** A leaf signed by the openssl root with the given extension lines. */
function opensslLeaf(name: string, extLines: string[]): { certPem: string; keyPem: string } {
  openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', file(`${name}.key`));
  openssl('req', '-new', '-key', file(`${name}.key`), '-subj', '/O=SPIRE', '-config', '/dev/null', '-out', file(`${name}.csr`));
  const ext = writeExt(`${name}.ext`, extLines);
  openssl('x509', '-req', '-in', file(`${name}.csr`), '-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-CAcreateserial', '-days', '1', '-sha256', '-extfile', ext, '-out', file(`${name}.pem`));
  return { certPem: readFileSync(file(`${name}.pem`), 'utf8'), keyPem: readFileSync(file(`${name}.key`), 'utf8') };
}

const GOOD_LEAF = [
  'subjectAltName = URI:spiffe://example.org/workload',
  'basicConstraints = critical, CA:false',
  'keyUsage = critical, digitalSignature',
  'extendedKeyUsage = serverAuth, clientAuth',
];

test('an SVID made by openssl under an openssl CA verifies', () => {
  const { certPem, keyPem } = opensslLeaf('good', GOOD_LEAF);
  const result = verifyX509Svid(certPem, bundle);
  assert.equal(result.id.toString(), 'spiffe://example.org/workload');
  assert.equal(result.chain.length, 2);
  assert.equal(X509Svid.parse(certPem, keyPem).id.toString(), 'spiffe://example.org/workload');
});

test('a CA:true leaf made by openssl is rejected', () => {
  const { certPem } = opensslLeaf('ca-leaf', GOOD_LEAF.map((l) => (l.startsWith('basicConstraints') ? 'basicConstraints = critical, CA:true' : l)));
  assertX509Code(() => verifyX509Svid(certPem, bundle), 'ERR_X509_SVID_LEAF_IS_CA');
});

test('an openssl leaf with two URI SANs is rejected', () => {
  const { certPem } = opensslLeaf('two-uris', ['subjectAltName = URI:spiffe://example.org/a, URI:spiffe://example.org/b', ...GOOD_LEAF.slice(1)]);
  assertX509Code(() => verifyX509Svid(certPem, bundle), 'ERR_X509_SVID_MULTIPLE_URI_SANS');
});

test('an openssl leaf with keyCertSign is rejected', () => {
  const { certPem } = opensslLeaf('cert-sign', GOOD_LEAF.map((l) => (l.startsWith('keyUsage') ? 'keyUsage = critical, digitalSignature, keyCertSign' : l)));
  assertX509Code(() => verifyX509Svid(certPem, bundle), 'ERR_X509_SVID_LEAF_KEY_CERT_SIGN');
});

test('an openssl leaf with only a DNS SAN is rejected', () => {
  const { certPem } = opensslLeaf('dns-only', ['subjectAltName = DNS:example.org', ...GOOD_LEAF.slice(1)]);
  assertX509Code(() => verifyX509Svid(certPem, bundle), 'ERR_X509_SVID_NO_URI_SAN');
});

test('openssl verify accepts a chain made by our test CA, and x509 -text shows the URI SAN', async () => {
  const ca = await createTestCa('example.org');
  const inter = await ca.childCa();
  const svid = await inter.issue('spiffe://example.org/ours');
  writeFileSync(file('ours-root.pem'), ca.cert.pem);
  writeFileSync(file('ours-inter.pem'), inter.cert.pem);
  writeFileSync(file('ours-leaf.pem'), svid.pem);
  const out = openssl('verify', '-CAfile', file('ours-root.pem'), '-untrusted', file('ours-inter.pem'), file('ours-leaf.pem'));
  assert.match(out, /ours-leaf\.pem: OK/);
  assert.match(openssl('x509', '-in', file('ours-leaf.pem'), '-noout', '-text'), /URI:spiffe:\/\/example\.org\/ours/);
});
