import { test } from 'node:test';
import assert from 'node:assert/strict';
import { oid, sequence, time, tlv, unsignedInteger } from '../../src/ca/der-writer.js';
import { generateKeyPairSync } from 'node:crypto';
import { DerReader, decodeOid, type DerElement } from '../../src/spiffe/x509/der-reader.js';
import { X509SvidError } from '../../src/spiffe/x509/x509-svid-error.js';
import { subjectPublicKeyBits } from '../../src/ca/x509-profile.js';

/** Reads exactly one element covering all of `buf` (the x509 reader the CA now shares). */
function readWhole(buf: Buffer, tag?: number): DerElement {
  const reader = new DerReader(buf);
  const el = tag === undefined ? reader.next() : reader.expect(tag, `tag 0x${tag.toString(16)}`);
  reader.finish('the element');
  return el;
}

const malformed = { code: 'ERR_X509_SVID_MALFORMED' };

test('lengths use the short form below 128 and the minimal long form above', () => {
  for (const [size, head] of [[0, '0400'], [127, '047f'], [128, '048180'], [255, '0481ff'], [256, '04820100'], [65535, '0482ffff'], [65536, '0483010000']] as const) {
    const der = tlv(0x04, Buffer.alloc(size, 7));
    assert.equal(der.subarray(0, head.length / 2).toString('hex'), head, `length ${size}`);
    assert.equal(der.length, head.length / 2 + size);
    const el = readWhole(der, 0x04);
    assert.equal(el.end - el.contentStart, size);
  }
});

test('OIDs round-trip through the reader', () => {
  for (const dotted of ['2.5.29.17', '1.2.840.10045.4.3.2', '1.3.6.1.5.5.7.3.1', '2.999.3', '1.2.840.113549.1.1.11']) {
    const der = oid(dotted);
    assert.equal(decodeOid(der, readWhole(der, 0x06)), dotted);
  }
  assert.equal(oid('1.2.840.10045.4.3.2').toString('hex'), '06082a8648ce3d040302');
});

test('INTEGERs are minimal and positive', () => {
  assert.equal(unsignedInteger(Buffer.from([0x80])).toString('hex'), '02020080');
  assert.equal(unsignedInteger(Buffer.from([0, 0, 0x7f])).toString('hex'), '02017f');
  assert.equal(unsignedInteger(Buffer.from([0])).toString('hex'), '020100');
});

test('times: UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280)', () => {
  assert.equal(time(new Date('2049-12-31T23:59:59.999Z')).toString('latin1'), '\x17\x0d491231235959Z');
  assert.equal(time(new Date('2050-01-01T00:00:00Z')).toString('latin1'), '\x18\x0f20500101000000Z');
  assert.equal(time(new Date('1999-01-02T03:04:05Z')).toString('latin1'), '\x17\x0d990102030405Z');
});

test('the reader refuses truncated, indefinite, non-minimal and trailing input', () => {
  assert.throws(() => new DerReader(Buffer.from([0x30])).next(), malformed);
  assert.throws(() => new DerReader(Buffer.from([0x30, 0x80, 0, 0])).next(), malformed);
  assert.throws(() => new DerReader(Buffer.from([0x04, 0x81, 0x05, 1, 2, 3, 4, 5])).next(), malformed);
  assert.throws(() => new DerReader(Buffer.from([0x04, 0x05, 1])).next(), malformed);
  assert.throws(() => readWhole(Buffer.from([0x05, 0x00, 0x00])), malformed);
  const seq = sequence(tlv(0x05), tlv(0x05));
  const inner = DerReader.inside(seq, readWhole(seq, 0x30));
  const tags: number[] = [];
  while (!inner.done) tags.push(inner.next().tag);
  assert.deepEqual(tags, [5, 5]);
});

test('subjectPublicKeyBits: the key bits of EC and RSA SPKIs; malformed SPKIs are X509SvidError', () => {
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'der' });
  assert.deepEqual(subjectPublicKeyBits(ec), ec.subarray(ec.length - 65));
  assert.equal(subjectPublicKeyBits(ec)[0], 4);
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'der' });
  assert.equal(subjectPublicKeyBits(rsa)[0], 0x30);
  assert.deepEqual(subjectPublicKeyBits(rsa), rsa.subarray(rsa.length - subjectPublicKeyBits(rsa).length));
  for (const bad of [Buffer.alloc(0), ec.subarray(0, ec.length - 1), Buffer.concat([ec, Buffer.from([0])]), sequence(tlv(0x30)), sequence(tlv(0x30), tlv(0x03))]) {
    assert.throws(() => subjectPublicKeyBits(bad), (err: unknown) => err instanceof X509SvidError && err.code === 'ERR_X509_SVID_MALFORMED');
  }
});
