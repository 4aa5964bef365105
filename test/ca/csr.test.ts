import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { bitString, explicit, oid, sequence } from '../../src/ca/der-writer.js';
import { spkiOf } from '../../src/ca/spki.js';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CaError, CertificateAuthority } from '../../src/ca/index.js';
import { decodePemBlocks } from '../../src/spiffe/pem.js';
import { openssl, opensslTry, tempDir, writePem } from './helpers.js';

const ID = 'spiffe://example.org/billing';
const ca = CertificateAuthority.create({ trustDomain: 'example.org' });

function makeCsr(dir: string, name: string, genpkeyArgs: string[]): { pem: string; keyPath: string } {
  const keyPath = join(dir, `${name}.key`);
  openssl(['genpkey', ...genpkeyArgs, '-out', keyPath]);
  const csrPath = join(dir, `${name}.csr`);
  openssl(['req', '-new', '-key', keyPath, '-subj', '/CN=ignored', '-out', csrPath]);
  return { pem: readFileSync(csrPath, 'utf8'), keyPath };
}

test('a valid CSR (PEM and DER) is minted with the CSR key, and openssl verifies the SVID', (t) => {
  const dir = tempDir(t);
  for (const [name, args] of [
    ['p256', ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256']],
    ['p384', ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384']],
    ['rsa', ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048']],
  ] as const) {
    const { pem, keyPath } = makeCsr(dir, name, [...args]);
    const der = decodePemBlocks(pem)[0]!.der;
    for (const csr of [pem, der]) {
      const mint = ca.mintX509Svid({ spiffeId: ID, csr });
      const cert = new X509Certificate(mint.certificate);
      const expected = createPublicKey(readFileSync(keyPath, 'utf8')).export({ type: 'spki', format: 'der' });
      assert.ok(cert.publicKey.export({ type: 'spki', format: 'der' }).equals(expected), `${name}: the SVID carries the CSR's key`);
      assert.equal(cert.subjectAltName, `URI:${ID}`);
      assert.equal(cert.subject, 'C=US\nO=SPIRE', 'the CSR subject is ignored');
    }
    const mint = ca.mintX509Svid({ spiffeId: ID, csr: pem });
    writePem(join(dir, `${name}.pem`), 'CERTIFICATE', [mint.certificate]);
    writeFileSync(join(dir, 'bundle.pem'), ca.bundle().toPem());
    const verify = opensslTry(['verify', '-CAfile', 'bundle.pem', `${name}.pem`], dir);
    assert.ok(verify.ok, verify.output);
  }
});

test('a CSR with a broken signature is rejected', (t) => {
  const dir = tempDir(t);
  const { pem } = makeCsr(dir, 'p256', ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256']);
  const der = Buffer.from(decodePemBlocks(pem)[0]!.der);
  // The signature BIT STRING ends the DER; flip a bit inside the ECDSA `s` integer.
  der[der.length - 2] = der[der.length - 2]! ^ 0x01;
  assert.throws(() => ca.mintX509Svid({ spiffeId: ID, csr: der }), { code: 'ERR_CA_CSR_BAD_SIGNATURE' });
  // A signed part changed (a byte of the subject CN) breaks it too.
  const der2 = Buffer.from(decodePemBlocks(pem)[0]!.der);
  const at = der2.indexOf(Buffer.from('ignored'));
  der2[at] = 'J'.charCodeAt(0);
  assert.throws(() => ca.mintX509Svid({ spiffeId: ID, csr: der2 }), { code: 'ERR_CA_CSR_BAD_SIGNATURE' });
});

test('CSR keys of unsupported types are rejected', (t) => {
  const dir = tempDir(t);
  const ed = makeCsr(dir, 'ed25519', ['-algorithm', 'ED25519']).pem;
  assert.throws(() => ca.mintX509Svid({ spiffeId: ID, csr: ed }), { code: 'ERR_CA_UNSUPPORTED_KEY' });
  const weak = makeCsr(dir, 'rsa1024', ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:1024']).pem;
  assert.throws(() => ca.mintX509Svid({ spiffeId: ID, csr: weak }), { code: 'ERR_CA_UNSUPPORTED_KEY' });
  const p521 = makeCsr(dir, 'p521', ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-521']).pem;
  assert.throws(() => ca.mintX509Svid({ spiffeId: ID, csr: p521 }), { code: 'ERR_CA_UNSUPPORTED_KEY' });
});

test('a CSR signed with SHA-1 is refused as an unsupported algorithm', () => {
  // Built here rather than by openssl, which may refuse SHA-1 outright: the
  // request is well formed and its SHA-1 signature is valid, only the
  // algorithm is unacceptable.
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const info = sequence(Buffer.from([0x02, 0x01, 0x00]), sequence(), spkiOf(publicKey), explicit(0));
  const sha1WithRsa = sequence(oid('1.2.840.113549.1.1.5'), Buffer.from([0x05, 0x00]));
  const csr = sequence(info, sha1WithRsa, bitString(sign('sha1', info, privateKey)));
  assert.ok(verify('sha1', info, publicKey, csr.subarray(csr.length - 256)), 'the SHA-1 signature itself is valid');
  assert.throws(() => ca.mintX509Svid({ spiffeId: ID, csr }), { code: 'ERR_CA_CSR_UNSUPPORTED_ALGORITHM' });
});

test('malformed CSRs get ERR_CA_MALFORMED_CSR', () => {
  const malformed: Array<string | Buffer> = [
    'not a csr',
    '-----BEGIN CERTIFICATE REQUEST-----\n!!!!\n-----END CERTIFICATE REQUEST-----\n',
    Buffer.from([0x30, 0x03, 0x02, 0x01, 0x00]),
    Buffer.from([0x30, 0x82, 0xff, 0xff]),
    Buffer.alloc(0),
    Buffer.alloc(70_000, 0x30),
  ];
  for (const csr of malformed) {
    assert.throws(
      () => ca.mintX509Svid({ spiffeId: ID, csr }),
      (err: unknown) => err instanceof CaError && err.code === 'ERR_CA_MALFORMED_CSR',
      String(csr).slice(0, 40),
    );
  }
  assert.throws(() => ca.mintX509Svid({ spiffeId: ID, csr: 42 as never }), { code: 'ERR_CA_MALFORMED_CSR' });
});
