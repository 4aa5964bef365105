/**
 * The X.509 building blocks of our certificates, as DER: names, extensions,
 * serial numbers. Constant pieces are computed once at module load.
 */
import { createHash, randomFillSync } from 'node:crypto';
import { BOOLEAN_TRUE, explicit, implicitPrimitive, octetString, oid, printableString, sequence, set, TAG, tlv, utf8String } from './der-writer.js';
import { DerReader, TAG as DER_TAG } from '../spiffe/x509/der-reader.js';
import { malformed } from '../spiffe/x509/x509-svid-error.js';

const OID_COUNTRY = oid('2.5.4.6');
const OID_ORGANIZATION = oid('2.5.4.10');
const OID_COMMON_NAME = oid('2.5.4.3');
const OID_SERIAL_NUMBER = oid('2.5.4.5');
const OID_SUBJECT_KEY_ID = oid('2.5.29.14');
const OID_KEY_USAGE = oid('2.5.29.15');
const OID_SUBJECT_ALT_NAME = oid('2.5.29.17');
const OID_BASIC_CONSTRAINTS = oid('2.5.29.19');
const OID_AUTHORITY_KEY_ID = oid('2.5.29.35');
const OID_EXT_KEY_USAGE = oid('2.5.29.37');
const OID_SERVER_AUTH = oid('1.3.6.1.5.5.7.3.1');
const OID_CLIENT_AUTH = oid('1.3.6.1.5.5.7.3.2');

/** X.509 v3: `[0] EXPLICIT INTEGER 2`. */
export const VERSION_V3 = Buffer.from('a003020102', 'hex');

function attribute(type: Buffer, value: Buffer): Buffer {
  return set(sequence(type, value));
}

/** SPIRE's default leaf subject, `C=US, O=SPIRE` (+ `CN=<first DNS name>` when there is one). */
export const LEAF_SUBJECT = leafSubject(undefined);

export function leafSubject(commonName: string | undefined): Buffer {
  const rdns = [attribute(OID_COUNTRY, printableString('US')), attribute(OID_ORGANIZATION, utf8String('SPIRE'))];
  if (commonName !== undefined) rdns.push(attribute(OID_COMMON_NAME, utf8String(commonName)));
  return sequence(...rdns);
}

/**
 * SPIRE's CA subject, `C=US, O=SPIFFE, serialNumber=<serial>`: the serial
 * number attribute makes every CA's name unique, so successive CAs of a
 * rotation never share an issuer name.
 */
export function caSubject(serialHex: string): Buffer {
  return sequence(
    attribute(OID_COUNTRY, printableString('US')),
    attribute(OID_ORGANIZATION, utf8String('SPIFFE')),
    attribute(OID_SERIAL_NUMBER, printableString(BigInt('0x' + serialHex).toString(10))),
  );
}

function extension(id: Buffer, critical: boolean, value: Buffer): Buffer {
  return critical ? sequence(id, BOOLEAN_TRUE, octetString(value)) : sequence(id, octetString(value));
}

/** basicConstraints critical, CA:FALSE. */
export const EXT_BASIC_CONSTRAINTS_LEAF = extension(OID_BASIC_CONSTRAINTS, true, sequence());
/** basicConstraints critical, CA:TRUE. */
export const EXT_BASIC_CONSTRAINTS_CA = extension(OID_BASIC_CONSTRAINTS, true, sequence(BOOLEAN_TRUE));
/** keyUsage critical: digitalSignature. */
export const EXT_KEY_USAGE_EC_LEAF = extension(OID_KEY_USAGE, true, Buffer.from([TAG.BIT_STRING, 2, 7, 0x80]));
/** keyUsage critical: digitalSignature, keyEncipherment. */
export const EXT_KEY_USAGE_RSA_LEAF = extension(OID_KEY_USAGE, true, Buffer.from([TAG.BIT_STRING, 2, 5, 0xa0]));
/** keyUsage critical: keyCertSign, cRLSign. */
export const EXT_KEY_USAGE_CA = extension(OID_KEY_USAGE, true, Buffer.from([TAG.BIT_STRING, 2, 1, 0x06]));
/** extKeyUsage: serverAuth, clientAuth. */
export const EXT_EXT_KEY_USAGE_LEAF = extension(OID_EXT_KEY_USAGE, false, sequence(OID_SERVER_AUTH, OID_CLIENT_AUTH));

export function subjectKeyIdExtension(keyId: Buffer): Buffer {
  return extension(OID_SUBJECT_KEY_ID, false, octetString(keyId));
}

export function authorityKeyIdExtension(keyId: Buffer): Buffer {
  return extension(OID_AUTHORITY_KEY_ID, false, sequence(implicitPrimitive(0, keyId)));
}

/** subjectAltName with one URI and any DNS names; non-critical (our subjects are never empty). */
export function subjectAltNameExtension(uri: string, dnsNames: readonly string[]): Buffer {
  const names = [implicitPrimitive(6, Buffer.from(uri, 'latin1'))];
  for (const dns of dnsNames) names.push(implicitPrimitive(2, Buffer.from(dns, 'latin1')));
  return extension(OID_SUBJECT_ALT_NAME, false, sequence(...names));
}

/** The extensions field, `[3] EXPLICIT SEQUENCE OF Extension`. */
export function extensionsField(extensions: Buffer[]): Buffer {
  return explicit(3, sequence(...extensions));
}

/**
 * The subjectPublicKey bits (without the unused-bits byte) of a DER
 * SubjectPublicKeyInfo; throws `X509SvidError` (`ERR_X509_SVID_MALFORMED`).
 */
export function subjectPublicKeyBits(spki: Buffer): Buffer {
  const top = new DerReader(spki);
  const seq = top.enter(DER_TAG.SEQUENCE, 'SubjectPublicKeyInfo');
  top.finish('SubjectPublicKeyInfo');
  seq.expect(DER_TAG.SEQUENCE, 'SubjectPublicKeyInfo algorithm');
  const bits = seq.expect(DER_TAG.BIT_STRING, 'subjectPublicKey');
  seq.finish('SubjectPublicKeyInfo');
  if (bits.end === bits.contentStart) throw malformed('subjectPublicKey is empty');
  return spki.subarray(bits.contentStart + 1, bits.end);
}

/** The conventional key identifier: SHA-1 of the subjectPublicKey bits (RFC 5280 §4.2.1.2 method 1). */
export function keyIdentifier(spki: Buffer): Buffer {
  return createHash('sha1').update(subjectPublicKeyBits(spki)).digest();
}

const SERIAL_BYTES = 16;
const POOL_SERIALS = 256;
const pool = Buffer.alloc(SERIAL_BYTES * POOL_SERIALS);
let poolOffset = pool.length;

/**
 * A fresh random serial number, 16 bytes: the top bit cleared (positive) and
 * the first byte non-zero (so the DER INTEGER is exactly 16 bytes). That is
 * 127 bits of randomness less a sliver, well above RFC 5280's 20-octet limit
 * and the 64 bits CAs are expected to use. Drawn from a pooled CSPRNG buffer.
 */
export function randomSerial(): Buffer {
  if (poolOffset >= pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const serial = Buffer.from(pool.subarray(poolOffset, poolOffset + SERIAL_BYTES));
  poolOffset += SERIAL_BYTES;
  serial[0] = serial[0]! & 0x7f;
  if (serial[0] === 0) serial[0] = 1 + (serial[1]! % 127);
  return serial;
}

export function serialInteger(serial: Buffer): Buffer {
  return tlv(TAG.INTEGER, serial);
}

