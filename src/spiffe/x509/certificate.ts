/**
 * A DER X.509 certificate, parsed once into exactly what SVID verification
 * needs. Byte fields are views into the input buffer (no copies); the public
 * key is imported into a KeyObject only when first asked for.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { DerReader, TAG, contextTag, decodeOctetAlignedBits, decodeOid, decodeSmallUint, type DerElement } from './der-reader.js';
import { decodeTime } from './der-time.js';
import { parseExtensions, type CertificateExtensions } from './extensions.js';
import { readPublicKeyKind, type PublicKeyKind } from './public-key-info.js';
import { X509SvidError, malformed } from './x509-svid-error.js';

/** No certificate we accept is larger than this; bigger input is refused before parsing. */
export const MAX_CERTIFICATE_BYTES = 64 * 1024;

export class ParsedCertificate {
  /** The whole certificate. */
  readonly der: Buffer;
  /** The signed bytes (tbsCertificate, tag and length included). */
  readonly tbs: Buffer;
  readonly signatureAlgorithm: string;
  readonly signature: Buffer;
  readonly version: 1 | 2 | 3;
  readonly serialNumber: Buffer;
  /** Raw DER of the issuer and subject Names (compared byte for byte). */
  readonly issuer: Buffer;
  readonly subject: Buffer;
  /** Validity bounds, milliseconds since the epoch, inclusive. */
  readonly notBeforeMs: number;
  readonly notAfterMs: number;
  /** Raw DER of the SubjectPublicKeyInfo. */
  readonly spki: Buffer;
  readonly publicKeyKind: PublicKeyKind;
  readonly extensions: CertificateExtensions;
  #publicKey: KeyObject | undefined;

  private constructor(der: Buffer) {
    this.der = der;
    const top = new DerReader(der);
    const cert = top.enter(TAG.SEQUENCE, 'Certificate');
    top.finish('Certificate');
    const tbsEl = cert.expect(TAG.SEQUENCE, 'tbsCertificate');
    const outerAlg = cert.expect(TAG.SEQUENCE, 'signatureAlgorithm');
    this.signature = decodeOctetAlignedBits(der, cert.expect(TAG.BIT_STRING, 'signatureValue'), 'signatureValue');
    cert.finish('Certificate');
    this.tbs = der.subarray(tbsEl.start, tbsEl.end);
    this.signatureAlgorithm = readAlgorithmOid(der, outerAlg);

    const tbs = DerReader.inside(der, tbsEl);
    const versionEl = tbs.optional(contextTag(0, true));
    this.version = versionEl === undefined ? 1 : readVersion(der, versionEl);
    const serial = tbs.expect(TAG.INTEGER, 'serialNumber');
    if (serial.end === serial.contentStart) throw malformed('serialNumber is empty');
    this.serialNumber = der.subarray(serial.contentStart, serial.end);
    const innerAlg = tbs.expect(TAG.SEQUENCE, 'signature');
    // RFC 5280 §4.1.1.2: the signed algorithm must equal the outer one, byte for byte.
    if (der.compare(der, outerAlg.start, outerAlg.end, innerAlg.start, innerAlg.end) !== 0) {
      throw malformed('signature algorithm differs inside and outside tbsCertificate');
    }
    const issuer = tbs.expect(TAG.SEQUENCE, 'issuer');
    this.issuer = der.subarray(issuer.start, issuer.end);
    const validity = tbs.enter(TAG.SEQUENCE, 'validity');
    this.notBeforeMs = decodeTime(der, validity.next());
    this.notAfterMs = decodeTime(der, validity.next());
    validity.finish('validity');
    const subject = tbs.expect(TAG.SEQUENCE, 'subject');
    this.subject = der.subarray(subject.start, subject.end);
    const spki = tbs.expect(TAG.SEQUENCE, 'subjectPublicKeyInfo');
    this.spki = der.subarray(spki.start, spki.end);
    this.publicKeyKind = readPublicKeyKind(der, spki);
    tbs.optional(contextTag(1, false)); // issuerUniqueID
    tbs.optional(contextTag(2, false)); // subjectUniqueID
    const extensions = tbs.optional(contextTag(3, true));
    tbs.finish('tbsCertificate');
    if (extensions !== undefined && this.version !== 3) throw malformed('only v3 certificates may carry extensions');
    this.extensions = parseExtensions(der, extensions);
  }

  /** Parses one DER certificate; throws `X509SvidError` (`ERR_X509_SVID_MALFORMED`, …). */
  static fromDer(der: Uint8Array): ParsedCertificate {
    if (!(der instanceof Uint8Array)) throw new TypeError('certificate must be a Buffer or Uint8Array');
    if (der.length > MAX_CERTIFICATE_BYTES) throw malformed(`certificate is larger than ${MAX_CERTIFICATE_BYTES} bytes`);
    const buf = Buffer.isBuffer(der) ? der : Buffer.from(der.buffer, der.byteOffset, der.byteLength);
    return new ParsedCertificate(buf);
  }

  get notBefore(): Date {
    return new Date(this.notBeforeMs);
  }

  get notAfter(): Date {
    return new Date(this.notAfterMs);
  }

  get isCa(): boolean {
    return this.extensions.basicConstraints?.isCa === true;
  }

  /** The public key as a KeyObject, imported once. */
  get publicKey(): KeyObject {
    if (this.#publicKey === undefined) {
      try {
        this.#publicKey = createPublicKey({ key: this.spki, format: 'der', type: 'spki' });
      } catch (cause) {
        throw new X509SvidError('ERR_X509_SVID_MALFORMED', 'malformed certificate: public key cannot be imported', { cause });
      }
    }
    return this.#publicKey;
  }
}

/** Splits concatenated DER certificates (the Workload API's encoding) by their outer SEQUENCE lengths. */
export function splitDerCertificates(bytes: Uint8Array): Buffer[] {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const reader = new DerReader(buf);
  const out: Buffer[] = [];
  while (!reader.done) {
    const el = reader.expect(TAG.SEQUENCE, 'a certificate SEQUENCE');
    out.push(buf.subarray(el.start, el.end));
  }
  return out;
}

function readAlgorithmOid(der: Buffer, el: DerElement): string {
  const alg = DerReader.inside(der, el);
  const oid = decodeOid(der, alg.expect(TAG.OID, 'algorithm OID'));
  // ECDSA forbids parameters and RSA PKCS#1 v1.5 wants NULL (some encoders omit it); anything else is not ours.
  if (!alg.done) alg.expect(TAG.NULL, 'NULL algorithm parameters');
  alg.finish('AlgorithmIdentifier');
  return oid;
}

function readVersion(der: Buffer, el: DerElement): 1 | 2 | 3 {
  const inner = DerReader.inside(der, el);
  const v = decodeSmallUint(der, inner.expect(TAG.INTEGER, 'version'), 'version');
  inner.finish('version');
  if (v > 2) throw malformed(`unknown certificate version ${v + 1}`);
  return (v + 1) as 1 | 2 | 3;
}
