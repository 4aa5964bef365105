/**
 * The DER certificate parser on malformed input: named cases, then fast-check
 * properties that random and mutated bytes only ever raise X509SvidError.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ParsedCertificate, X509SvidError, splitDerCertificates, verifyX509Svid } from '../../../src/spiffe/x509/index.js';
import { createTestCa, derTlv } from '../../helpers/test-ca.js';
import { assertX509Code } from './assert-code.js';

const ca = await createTestCa('example.org');
const svid = await ca.issue('spiffe://example.org/workload', { dnsNames: ['web.example.org'] });
const der = svid.der;

test('parses the fields verification needs', () => {
  const cert = ParsedCertificate.fromDer(der);
  assert.equal(cert.version, 3);
  assert.equal(cert.signatureAlgorithm, '1.2.840.10045.4.3.2');
  assert.deepEqual(cert.issuer, ParsedCertificate.fromDer(ca.der).subject);
  assert.deepEqual(cert.extensions.uris, ['spiffe://example.org/workload']);
  assert.deepEqual(cert.extensions.dnsNames, ['web.example.org']);
  assert.equal(cert.extensions.basicConstraints?.isCa, false);
  assert.deepEqual(cert.extensions.extKeyUsage, ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
  assert.ok(cert.extensions.critical.includes('2.5.29.15'));
  assert.deepEqual(cert.publicKeyKind, { type: 'ec', curve: 'P-256' });
  assert.equal(cert.notAfter.getTime(), svid.certificate.notAfter.getTime());
  assert.equal(cert.serialNumber.toString('hex'), svid.certificate.serialNumber.toLowerCase());
  assert.ok(cert.publicKey.equals(ParsedCertificate.fromDer(der).publicKey));
});

test('a truncated certificate is malformed', () => {
  for (const cut of [1, 2, 10, der.length >> 1, der.length - 1]) {
    assertX509Code(() => ParsedCertificate.fromDer(der.subarray(0, cut)), 'ERR_X509_SVID_MALFORMED');
  }
});

test('trailing bytes after the certificate are malformed', () => {
  assertX509Code(() => ParsedCertificate.fromDer(Buffer.concat([der, Buffer.from([0])])), 'ERR_X509_SVID_MALFORMED');
});

test('a huge length is malformed, not an allocation', () => {
  assertX509Code(() => ParsedCertificate.fromDer(Buffer.from([0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x30, 0x00])), 'ERR_X509_SVID_MALFORMED');
  assertX509Code(() => ParsedCertificate.fromDer(Buffer.from([0x30, 0x89, 1, 2, 3, 4, 5, 6, 7, 8, 9])), 'ERR_X509_SVID_MALFORMED');
});

test('indefinite and non-minimal lengths are not DER', () => {
  assertX509Code(() => ParsedCertificate.fromDer(Buffer.from([0x30, 0x80, 0x00, 0x00])), 'ERR_X509_SVID_MALFORMED');
  const body = der.subarray(4); // the outer SEQUENCE has a two-byte length: re-encode it with four
  const long = Buffer.concat([Buffer.from([0x30, 0x84, 0, 0, body.length >> 8, body.length & 0xff]), body]);
  assertX509Code(() => ParsedCertificate.fromDer(long), 'ERR_X509_SVID_MALFORMED');
});

test('deep nesting is refused by the grammar, without recursion', () => {
  let nested: Buffer = Buffer.alloc(0);
  for (let i = 0; i < 2000; i++) nested = derTlv(0x30, nested); // about 8 KiB of SEQUENCEs
  assertX509Code(() => ParsedCertificate.fromDer(nested), 'ERR_X509_SVID_MALFORMED');
});

test('oversized input is refused before parsing', () => {
  assertX509Code(() => ParsedCertificate.fromDer(Buffer.alloc(70_000, 0x30)), 'ERR_X509_SVID_MALFORMED');
});

test('a tampered validity time is malformed', () => {
  const copy = Buffer.from(der);
  // the first UTCTime: tag 0x17, length 13, YYMMDDHHMMSS digits, 'Z' (a bare 0x17 may sit in the random serial)
  const isDigit = (b: number | undefined) => b !== undefined && b >= 0x30 && b <= 0x39;
  let at = -1;
  for (let i = 0; i + 14 < copy.length && at < 0; i++) {
    if (copy[i] === 0x17 && copy[i + 1] === 0x0d && copy[i + 14] === 0x5a && [...copy.subarray(i + 2, i + 14)].every(isDigit)) at = i;
  }
  assert.ok(at >= 0, 'no UTCTime in the certificate');
  copy[at + 2 + 2] = 0x31; // month "1x" → e.g. 13+
  copy[at + 2 + 3] = 0x39;
  assertX509Code(() => ParsedCertificate.fromDer(copy), 'ERR_X509_SVID_MALFORMED');
});

test('GeneralizedTime is read for dates from 2050', async () => {
  const late = await ca.issue('spiffe://example.org/late', { notAfter: new Date('2051-06-01T12:00:00Z') });
  assert.equal(ParsedCertificate.fromDer(late.der).notAfter.toISOString(), '2051-06-01T12:00:00.000Z');
});

test('splitDerCertificates walks concatenated DER and rejects junk between certificates', () => {
  assert.deepEqual(splitDerCertificates(Buffer.concat([der, ca.der])), [der, ca.der]);
  assert.deepEqual(splitDerCertificates(new Uint8Array(0)), []);
  assertX509Code(() => splitDerCertificates(Buffer.concat([der, Buffer.from([0x04, 0x00])])), 'ERR_X509_SVID_MALFORMED');
  assertX509Code(() => splitDerCertificates(Buffer.concat([der, der.subarray(0, 20)])), 'ERR_X509_SVID_MALFORMED');
});

function onlyX509SvidErrors(fn: () => unknown): boolean {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof X509SvidError)) throw err;
  }
  return true;
}

test('property: random bytes only ever raise X509SvidError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => onlyX509SvidErrors(() => ParsedCertificate.fromDer(bytes)) && onlyX509SvidErrors(() => splitDerCertificates(bytes))),
    { numRuns: 3000 },
  );
});

test('property: random bytes behind a certificate SEQUENCE header only ever raise X509SvidError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 1, maxLength: 120 }), (body) => onlyX509SvidErrors(() => ParsedCertificate.fromDer(derTlv(0x30, derTlv(0x30, body))))),
    { numRuns: 3000 },
  );
});

const mutation = fc.record({
  flips: fc.array(fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 4 }),
  cut: fc.option(fc.nat()),
});

function mutate(input: Buffer, m: { flips: { at: number; value: number }[]; cut: number | null }): Buffer {
  const out = Buffer.from(input);
  for (const { at, value } of m.flips) out[at % out.length] = value;
  return m.cut === null ? out : out.subarray(0, m.cut % (out.length + 1));
}

test('property: mutated certificates only ever raise X509SvidError, in parsing and in verification', () => {
  const bundle = ca.bundle();
  fc.assert(
    fc.property(mutation, (m) => {
      const bad = mutate(der, m);
      return onlyX509SvidErrors(() => ParsedCertificate.fromDer(bad)) && onlyX509SvidErrors(() => verifyX509Svid([bad], bundle));
    }),
    { numRuns: 3000 },
  );
});

test('property: a mutated root in the bundle never makes verification throw anything else', async () => {
  const { Bundle } = await import('../../../src/spiffe/bundle.js');
  fc.assert(
    fc.property(mutation, (m) => {
      const bundle = new Bundle('example.org', { x509Authorities: [mutate(ca.der, m)] });
      return onlyX509SvidErrors(() => verifyX509Svid(svid.chain, bundle));
    }),
    { numRuns: 1000 },
  );
});

test('the SubjectKeyIdentifier is read strictly: an OCTET STRING and nothing else', async () => {
  const { Extension } = await import('@peculiar/x509');
  const id = 'spiffe://example.org/workload';
  const ski = Buffer.from('0102030405060708090a0b0c0d0e0f1011121314', 'hex');
  const withSki = await ca.issue(id, { extraExtensions: [new Extension('2.5.29.14', false, derTlv(0x04, ski))] });
  assert.deepEqual(ParsedCertificate.fromDer(withSki.der).extensions.subjectKeyIdentifier, ski);
  assert.equal(ParsedCertificate.fromDer(der).extensions.subjectKeyIdentifier, undefined, 'absent when the certificate has none');
  const wrongTag = await ca.issue(id, { extraExtensions: [new Extension('2.5.29.14', false, derTlv(0x02, ski))] });
  assertX509Code(() => ParsedCertificate.fromDer(wrongTag.der), 'ERR_X509_SVID_MALFORMED');
  const trailing = await ca.issue(id, { extraExtensions: [new Extension('2.5.29.14', false, Buffer.concat([derTlv(0x04, ski), Buffer.from([0x05, 0x00])]))] });
  assertX509Code(() => ParsedCertificate.fromDer(trailing.der), 'ERR_X509_SVID_MALFORMED');
});
