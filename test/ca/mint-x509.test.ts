import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, X509Certificate, type KeyObject } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CaError, CertificateAuthority, KEY_TYPES, type KeyType } from '../../src/ca/index.js';
import { ParsedCertificate, verifyX509Svid } from '../../src/spiffe/x509/index.js';
import { keyIdentifier } from '../../src/ca/x509-profile.js';
import { openssl, opensslTry, tempDir, writePem, at } from './helpers.js';

const ID = 'spiffe://example.org/ns/default/sa/web';

function leafKey(type: KeyType): KeyObject {
  if (type === 'ec-p256') return generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey;
  if (type === 'ec-p384') return generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).publicKey;
  return generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
}

const caCache = new Map<KeyType, CertificateAuthority>();
function caOf(type: KeyType): CertificateAuthority {
  let ca = caCache.get(type);
  if (ca === undefined) caCache.set(type, (ca = CertificateAuthority.create({ trustDomain: 'example.org', keyType: type })));
  return ca;
}

test('a minted X.509-SVID shows the SPIFFE profile to node:crypto', () => {
  const ca = caOf('ec-p256');
  const now = new Date();
  const mint = ca.mintX509Svid({ spiffeId: ID, publicKey: leafKey('ec-p256'), dnsNames: ['web.example.org', 'web'], now });
  const cert = new X509Certificate(mint.certificate);
  assert.equal(cert.subjectAltName, `URI:${ID}, DNS:web.example.org, DNS:web`);
  assert.equal(cert.ca, false);
  assert.deepEqual(cert.keyUsage?.sort(), ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
  assert.equal(cert.subject, 'C=US\nO=SPIRE\nCN=web.example.org');
  assert.equal(cert.serialNumber.toLowerCase(), mint.serialNumber);
  assert.equal(new Date(cert.validTo).getTime(), mint.expiresAt.getTime());
  assert.equal(new Date(cert.validFrom).getTime(), mint.notBefore.getTime());
  const caCert = new X509Certificate(ca.bundle().x509Authorities()[0]!);
  assert.ok(cert.checkIssued(caCert));
  assert.ok(cert.verify(caCert.publicKey));
  assert.deepEqual(mint.chain, [mint.certificate], 'self-signed CA: the chain is the leaf alone');
  assert.equal(caCert.ca, true);
  assert.equal(caCert.subjectAltName, 'URI:spiffe://example.org');
  assert.match(caCert.subject, /^C=US\nO=SPIFFE\nserialNumber=\d+$/);
});

test('openssl shows the URI SAN, CA:FALSE, key usage and EKU, and verifies the SVID against the bundle', (t) => {
  const dir = tempDir(t);
  const ca = caOf('ec-p256');
  const mint = ca.mintX509Svid({ spiffeId: ID, publicKey: leafKey('ec-p256') });
  writePem(join(dir, 'svid.pem'), 'CERTIFICATE', [mint.certificate]);
  writeFileSync(join(dir, 'bundle.pem'), ca.bundle().toPem());
  const text = openssl(['x509', '-in', 'svid.pem', '-noout', '-text'], dir);
  assert.match(text, /X509v3 Subject Alternative Name: \n\s+URI:spiffe:\/\/example\.org\/ns\/default\/sa\/web\n/);
  assert.match(text, /X509v3 Basic Constraints: critical\n\s+CA:FALSE/);
  assert.match(text, /X509v3 Key Usage: critical\n\s+Digital Signature\n/);
  assert.match(text, /X509v3 Extended Key Usage: \n\s+TLS Web Server Authentication, TLS Web Client Authentication/);
  assert.match(text, /X509v3 Subject Key Identifier/);
  assert.match(text, /X509v3 Authority Key Identifier/);
  const caText = openssl(['x509', '-in', 'bundle.pem', '-noout', '-text'], dir);
  assert.match(caText, /CA:TRUE/);
  assert.match(caText, /Key Usage: critical\n\s+Certificate Sign, CRL Sign/);
  assert.match(caText, /URI:spiffe:\/\/example\.org\n/);
  const verify = opensslTry(['verify', '-CAfile', 'bundle.pem', '-purpose', 'sslclient', 'svid.pem'], dir);
  assert.ok(verify.ok, verify.output);
  assert.match(verify.output, /svid\.pem: OK/);
});

for (const caType of KEY_TYPES) {
  for (const leafType of KEY_TYPES) {
    test(`CA ${caType} mints for a ${leafType} key, openssl verifies it`, (t) => {
      const dir = tempDir(t);
      const ca = caOf(caType);
      const mint = ca.mintX509Svid({ spiffeId: ID, publicKey: leafKey(leafType) });
      writePem(join(dir, 'svid.pem'), 'CERTIFICATE', [mint.certificate]);
      writeFileSync(join(dir, 'bundle.pem'), ca.bundle().toPem());
      const verify = opensslTry(['verify', '-CAfile', 'bundle.pem', 'svid.pem'], dir);
      assert.ok(verify.ok, verify.output);
      assert.equal(verifyX509Svid(mint.chain, ca.bundle()).id.toString(), ID);
      const text = openssl(['x509', '-in', 'svid.pem', '-noout', '-text'], dir);
      const sigAlg = caType === 'rsa-2048' ? 'sha256WithRSAEncryption' : caType === 'ec-p384' ? 'ecdsa-with-SHA384' : 'ecdsa-with-SHA256';
      assert.match(text, new RegExp(`Signature Algorithm: ${sigAlg}`));
      if (leafType === 'rsa-2048') assert.match(text, /Key Usage: critical\n\s+Digital Signature, Key Encipherment\n/);
      else assert.match(text, /Key Usage: critical\n\s+Digital Signature\n/);
    });
  }
}

test('the CA certificate reads back (ParsedCertificate) as built: id = serial, dates, SKI; leaves carry it as their AKI', () => {
  for (const keyType of ['ec-p256', 'rsa-2048'] as const) {
    const ca = caOf(keyType);
    const authority = ca.x509Authorities[0]!;
    const parsed = ParsedCertificate.fromDer(authority.certificate);
    const node = new X509Certificate(authority.certificate);
    assert.equal(authority.id, node.serialNumber.toLowerCase());
    assert.equal(authority.id, parsed.serialNumber.toString('hex'));
    assert.equal(authority.notBefore.getTime(), new Date(node.validFrom).getTime());
    assert.equal(authority.notAfter.getTime(), new Date(node.validTo).getTime());
    const ski = parsed.extensions.subjectKeyIdentifier!;
    assert.deepEqual(ski, keyIdentifier(parsed.spki));
    const leaf = ca.mintX509Svid({ spiffeId: ID, publicKey: leafKey('ec-p256') }).certificate;
    assert.ok(leaf.includes(Buffer.concat([Buffer.from([0x30, ski.length + 2, 0x80, ski.length]), ski])), 'AuthorityKeyIdentifier keyIdentifier = the CA SKI');
    assert.ok(ParsedCertificate.fromDer(leaf).issuer.equals(parsed.subject));
  }
});

test('notBefore is backdated 10 s at most, TTL defaults to 1 h', () => {
  const ca = CertificateAuthority.create({ trustDomain: 'example.org', now: at('2030-01-01T00:00:00.000Z') });
  const now = at('2030-01-01T01:00:00.250Z');
  const mint = ca.mintX509Svid({ spiffeId: ID, publicKey: leafKey('ec-p256'), now });
  const backdate = now.getTime() - mint.notBefore.getTime();
  assert.ok(backdate <= 10_000 && backdate > 9_000, `backdated ${backdate} ms`);
  assert.equal(mint.expiresAt.toISOString(), '2030-01-01T02:00:00.000Z');
  const ttl = ca.mintX509Svid({ spiffeId: ID, publicKey: leafKey('ec-p256'), now, ttlSeconds: 60 });
  assert.equal(ttl.expiresAt.toISOString(), '2030-01-01T01:01:00.000Z');
});

test('the TTL is capped at the CA expiry', () => {
  const created = at('2030-01-01T00:00:00Z');
  const ca = CertificateAuthority.create({ trustDomain: 'example.org', ttlSeconds: 7200, now: created });
  const caNotAfter = ca.activeX509Authority!.notAfter;
  assert.equal(caNotAfter.toISOString(), '2030-01-01T02:00:00.000Z');
  const mint = ca.mintX509Svid({ spiffeId: ID, publicKey: leafKey('ec-p256'), now: at('2030-01-01T01:30:00Z'), ttlSeconds: 3600 });
  assert.equal(mint.expiresAt.getTime(), caNotAfter.getTime());
  assert.equal(new Date(new X509Certificate(mint.certificate).validTo).getTime(), caNotAfter.getTime());
  assert.throws(() => ca.mintX509Svid({ spiffeId: ID, publicKey: leafKey('ec-p256'), now: at('2030-01-01T02:00:00Z') }), { code: 'ERR_CA_EXPIRED' });
});

test('dates from 2050 on are GeneralizedTime and still verify', () => {
  const ca = CertificateAuthority.create({ trustDomain: 'example.org', now: at('2049-12-31T23:30:00Z'), ttlSeconds: 86400 });
  const mint = ca.mintX509Svid({ spiffeId: ID, publicKey: leafKey('ec-p256'), now: at('2049-12-31T23:40:00Z') });
  const cert = new X509Certificate(mint.certificate);
  assert.equal(new Date(cert.validTo).toISOString(), '2050-01-01T00:40:00.000Z');
  assert.equal(new Date(cert.validFrom).toISOString(), '2049-12-31T23:39:50.000Z');
  // tag 0x18 (GeneralizedTime) "20500101004000Z" is in the DER
  assert.ok(mint.certificate.includes(Buffer.concat([Buffer.from([0x18, 15]), Buffer.from('20500101004000Z')])));
});

test('serial numbers are unique and positive across 1,000 mints', () => {
  const ca = caOf('ec-p256');
  const key = leafKey('ec-p256');
  const serials = new Set<string>();
  for (let i = 0; i < 1000; i++) {
    const mint = ca.mintX509Svid({ spiffeId: ID, publicKey: key });
    assert.equal(mint.serialNumber.length, 32);
    const first = parseInt(mint.serialNumber.slice(0, 2), 16);
    assert.ok(first > 0 && first < 0x80, `serial ${mint.serialNumber} must be positive with a non-zero first byte`);
    serials.add(mint.serialNumber);
  }
  assert.equal(serials.size, 1000);
});

test('bad requests get specific CaError codes', () => {
  const ca = caOf('ec-p256');
  const publicKey = leafKey('ec-p256');
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['ID without a path', { spiffeId: 'spiffe://example.org', publicKey }, 'ERR_CA_ID_WITHOUT_PATH'],
    ['foreign trust domain', { spiffeId: 'spiffe://other.org/web', publicKey }, 'ERR_CA_FOREIGN_TRUST_DOMAIN'],
    ['not a SPIFFE ID', { spiffeId: 'https://example.org/web', publicKey }, 'ERR_CA_BAD_SPIFFE_ID'],
    ['uppercase trust domain', { spiffeId: 'spiffe://Example.org/web', publicKey }, 'ERR_CA_BAD_SPIFFE_ID'],
    ['TTL zero', { spiffeId: ID, publicKey, ttlSeconds: 0 }, 'ERR_CA_BAD_TTL'],
    ['TTL negative', { spiffeId: ID, publicKey, ttlSeconds: -5 }, 'ERR_CA_BAD_TTL'],
    ['TTL fractional', { spiffeId: ID, publicKey, ttlSeconds: 1.5 }, 'ERR_CA_BAD_TTL'],
    ['TTL absurd', { spiffeId: ID, publicKey, ttlSeconds: 1e12 }, 'ERR_CA_BAD_TTL'],
    ['TTL infinite', { spiffeId: ID, publicKey, ttlSeconds: Infinity }, 'ERR_CA_BAD_TTL'],
    ['bad DNS name', { spiffeId: ID, publicKey, dnsNames: ['bad name'] }, 'ERR_CA_BAD_DNS_NAME'],
    ['DNS name with NUL', { spiffeId: ID, publicKey, dnsNames: ['a\u0000b'] }, 'ERR_CA_BAD_DNS_NAME'],
    ['no key', { spiffeId: ID }, 'ERR_CA_BAD_OPTION'],
    ['both key and CSR', { spiffeId: ID, publicKey, csr: 'x' }, 'ERR_CA_BAD_OPTION'],
    ['weak RSA key', { spiffeId: ID, publicKey: generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey }, 'ERR_CA_UNSUPPORTED_KEY'],
    ['Ed25519 key', { spiffeId: ID, publicKey: generateKeyPairSync('ed25519').publicKey }, 'ERR_CA_UNSUPPORTED_KEY'],
    ['P-521 key', { spiffeId: ID, publicKey: generateKeyPairSync('ec', { namedCurve: 'secp521r1' }).publicKey }, 'ERR_CA_UNSUPPORTED_KEY'],
    ['bad now', { spiffeId: ID, publicKey, now: new Date(NaN) }, 'ERR_CA_BAD_OPTION'],
  ];
  for (const [name, request, code] of cases) {
    assert.throws(
      () => ca.mintX509Svid(request as never),
      (err: unknown) => err instanceof CaError && err.code === code,
      name,
    );
  }
});

test('CA options are checked', () => {
  assert.throws(() => CertificateAuthority.create({ trustDomain: 'Bad Domain' }), { code: 'ERR_CA_BAD_OPTION' });
  assert.throws(() => CertificateAuthority.create({ trustDomain: 'example.org', keyType: 'ed25519' as KeyType }), { code: 'ERR_CA_BAD_KEY_TYPE' });
  assert.throws(() => CertificateAuthority.create({ trustDomain: 'example.org', ttlSeconds: 0 }), { code: 'ERR_CA_BAD_TTL' });
  assert.throws(() => CertificateAuthority.create({ trustDomain: 'example.org', ttlSeconds: 20 * 365 * 86400 }), { code: 'ERR_CA_BAD_TTL' });
});
