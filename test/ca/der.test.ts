import { test } from 'node:test';
import assert from 'node:assert/strict';
import { oid, sequence, time, tlv, unsignedInteger } from '../../src/ca/der-writer.js';
import { children, oidToString, readTlv, readWhole } from '../../src/ca/der-reader.js';

test('lengths use the short form below 128 and the minimal long form above', () => {
  for (const [size, head] of [[0, '0400'], [127, '047f'], [128, '048180'], [255, '0481ff'], [256, '04820100'], [65535, '0482ffff'], [65536, '0483010000']] as const) {
    const der = tlv(0x04, Buffer.alloc(size, 7));
    assert.equal(der.subarray(0, head.length / 2).toString('hex'), head, `length ${size}`);
    assert.equal(der.length, head.length / 2 + size);
    assert.equal(readWhole(der, 0x04).content.length, size);
  }
});

test('OIDs round-trip through the reader', () => {
  for (const dotted of ['2.5.29.17', '1.2.840.10045.4.3.2', '1.3.6.1.5.5.7.3.1', '2.999.3', '1.2.840.113549.1.1.11']) {
    assert.equal(oidToString(readWhole(oid(dotted), 0x06).content), dotted);
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
  assert.throws(() => readTlv(Buffer.from([0x30])), SyntaxError);
  assert.throws(() => readTlv(Buffer.from([0x30, 0x80, 0, 0])), SyntaxError);
  assert.throws(() => readTlv(Buffer.from([0x04, 0x81, 0x05, 1, 2, 3, 4, 5])), SyntaxError);
  assert.throws(() => readTlv(Buffer.from([0x04, 0x05, 1])), SyntaxError);
  assert.throws(() => readWhole(Buffer.from([0x05, 0x00, 0x00])), SyntaxError);
  assert.deepEqual(children(readWhole(sequence(tlv(0x05), tlv(0x05)))).map((c) => c.tag), [5, 5]);
});
