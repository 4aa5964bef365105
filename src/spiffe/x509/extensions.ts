/**
 * The certificate extensions X.509-SVID verification depends on, read from
 * the ASN.1 (never from a printed form, Node CVE-2021-44532). An unknown
 * extension marked critical makes the whole certificate unusable (RFC 5280
 * §4.2), and a repeated extension is malformed.
 */
import { DerReader, TAG, contextTag, decodeBoolean, decodeOid, decodeSmallUint, type DerElement } from './der-reader.js';
import { OID } from './oids.js';
import { X509SvidError, malformed } from './x509-svid-error.js';

/** KeyUsage bits (RFC 5280 §4.2.1.3), as a mask: bit n of the BIT STRING is `1 << n`. */
export const KEY_USAGE = {
  digitalSignature: 1 << 0,
  nonRepudiation: 1 << 1,
  keyEncipherment: 1 << 2,
  dataEncipherment: 1 << 3,
  keyAgreement: 1 << 4,
  keyCertSign: 1 << 5,
  cRLSign: 1 << 6,
  encipherOnly: 1 << 7,
  decipherOnly: 1 << 8,
} as const;

/** One name-constraint subtree; `kind: 'other'` covers every type we do not evaluate. */
export interface NameSubtree {
  readonly kind: 'uri' | 'dns' | 'other';
  readonly value: string;
}

export interface NameConstraints {
  readonly permitted: readonly NameSubtree[];
  readonly excluded: readonly NameSubtree[];
}

export interface BasicConstraints {
  readonly isCa: boolean;
  readonly pathLen: number | undefined;
}

export interface CertificateExtensions {
  basicConstraints: BasicConstraints | undefined;
  /** KEY_USAGE mask, or undefined when the extension is absent. */
  keyUsage: number | undefined;
  /** EKU purposes (dotted OIDs), or undefined when the extension is absent. */
  extKeyUsage: readonly string[] | undefined;
  /** URI SANs, byte for byte (IA5String read as latin1, so no byte is lost or merged). */
  uris: readonly string[];
  dnsNames: readonly string[];
  nameConstraints: NameConstraints | undefined;
  /** The SubjectKeyIdentifier's key identifier (a view into the certificate), or undefined when absent. */
  subjectKeyIdentifier: Buffer | undefined;
  /** OIDs of the extensions marked critical. */
  critical: readonly string[];
}

const GN_DNS = contextTag(2, false);
const GN_URI = contextTag(6, false);

/** Parses the content of `[3] EXPLICIT Extensions`, or returns empty extensions for v1/v2. */
export function parseExtensions(buf: Buffer, explicit: DerElement | undefined): CertificateExtensions {
  const out: CertificateExtensions = {
    basicConstraints: undefined,
    keyUsage: undefined,
    extKeyUsage: undefined,
    uris: [],
    dnsNames: [],
    nameConstraints: undefined,
    subjectKeyIdentifier: undefined,
    critical: [],
  };
  if (explicit === undefined) return out;
  const outer = DerReader.inside(buf, explicit);
  const list = outer.enter(TAG.SEQUENCE, 'Extensions');
  outer.finish('Extensions');
  if (list.done) throw malformed('Extensions must not be empty');
  const seen = new Set<string>();
  const critical: string[] = [];
  while (!list.done) {
    const ext = list.enter(TAG.SEQUENCE, 'Extension');
    const oid = decodeOid(buf, ext.expect(TAG.OID, 'extension OID'));
    const flag = ext.optional(TAG.BOOLEAN);
    const isCritical = flag !== undefined && decodeBoolean(buf, flag);
    const value = ext.expect(TAG.OCTET_STRING, 'extension value');
    ext.finish('Extension');
    if (seen.has(oid)) throw malformed(`extension ${oid} appears twice`);
    seen.add(oid);
    if (isCritical) critical.push(oid);
    const inner = DerReader.inside(buf, value);
    switch (oid) {
      case OID.basicConstraints:
        out.basicConstraints = readBasicConstraints(buf, inner);
        break;
      case OID.keyUsage:
        out.keyUsage = readKeyUsage(buf, inner);
        break;
      case OID.extKeyUsage:
        out.extKeyUsage = readExtKeyUsage(buf, inner);
        break;
      case OID.subjectAltName:
        readSubjectAltName(buf, inner, out);
        break;
      case OID.nameConstraints:
        out.nameConstraints = readNameConstraints(buf, inner);
        break;
      case OID.subjectKeyIdentifier:
        out.subjectKeyIdentifier = readSubjectKeyIdentifier(buf, inner);
        break;
      case OID.authorityKeyIdentifier:
        break; // understood; path building matches names, not key identifiers
      default:
        if (isCritical) {
          throw new X509SvidError('ERR_X509_SVID_UNKNOWN_CRITICAL_EXTENSION', `certificate has an unhandled critical extension ${oid}`);
        }
    }
  }
  out.critical = critical;
  return out;
}

function readBasicConstraints(buf: Buffer, inner: DerReader): BasicConstraints {
  const seq = inner.enter(TAG.SEQUENCE, 'BasicConstraints');
  inner.finish('BasicConstraints');
  const flag = seq.optional(TAG.BOOLEAN);
  const isCa = flag !== undefined && decodeBoolean(buf, flag);
  const len = seq.optional(TAG.INTEGER);
  seq.finish('BasicConstraints');
  return { isCa, pathLen: len === undefined ? undefined : decodeSmallUint(buf, len, 'pathLenConstraint') };
}

/** `KeyIdentifier ::= OCTET STRING`, any length (as Go's crypto/x509 reads it). */
function readSubjectKeyIdentifier(buf: Buffer, inner: DerReader): Buffer {
  const el = inner.expect(TAG.OCTET_STRING, 'SubjectKeyIdentifier');
  inner.finish('SubjectKeyIdentifier');
  return buf.subarray(el.contentStart, el.end);
}

function readKeyUsage(buf: Buffer, inner: DerReader): number {
  const el = inner.expect(TAG.BIT_STRING, 'KeyUsage');
  inner.finish('KeyUsage');
  const length = el.end - el.contentStart;
  if (length < 1) throw malformed('KeyUsage is empty');
  const unused = buf[el.contentStart]!;
  if (unused > 7 || (length === 1 && unused !== 0)) throw malformed('KeyUsage has a bad unused-bits count');
  let mask = 0;
  // Only the nine defined bits matter; at most two bytes carry them.
  for (let i = 0; i < 9; i++) {
    const byteIndex = el.contentStart + 1 + (i >> 3);
    if (byteIndex >= el.end) break;
    if (buf[byteIndex]! & (0x80 >> (i & 7))) mask |= 1 << i;
  }
  return mask;
}

function readExtKeyUsage(buf: Buffer, inner: DerReader): string[] {
  const seq = inner.enter(TAG.SEQUENCE, 'ExtKeyUsage');
  inner.finish('ExtKeyUsage');
  const purposes: string[] = [];
  while (!seq.done) purposes.push(decodeOid(buf, seq.expect(TAG.OID, 'KeyPurposeId')));
  if (purposes.length === 0) throw malformed('ExtKeyUsage must not be empty');
  return purposes;
}

function readSubjectAltName(buf: Buffer, inner: DerReader, out: CertificateExtensions): void {
  const seq = inner.enter(TAG.SEQUENCE, 'SubjectAltName');
  inner.finish('SubjectAltName');
  if (seq.done) throw malformed('SubjectAltName must not be empty');
  const uris: string[] = [];
  const dnsNames: string[] = [];
  while (!seq.done) {
    const name = seq.next(); // every GeneralName is one TLV; unknown kinds are skipped whole
    if (name.tag === GN_URI) uris.push(buf.toString('latin1', name.contentStart, name.end));
    else if (name.tag === GN_DNS) dnsNames.push(buf.toString('latin1', name.contentStart, name.end));
  }
  out.uris = uris;
  out.dnsNames = dnsNames;
}

function readNameConstraints(buf: Buffer, inner: DerReader): NameConstraints {
  const seq = inner.enter(TAG.SEQUENCE, 'NameConstraints');
  inner.finish('NameConstraints');
  const permitted = readSubtrees(buf, seq, contextTag(0, true));
  const excluded = readSubtrees(buf, seq, contextTag(1, true));
  seq.finish('NameConstraints');
  if (permitted.length === 0 && excluded.length === 0) throw malformed('NameConstraints must not be empty');
  return { permitted, excluded };
}

function readSubtrees(buf: Buffer, seq: DerReader, tag: number): NameSubtree[] {
  const el = seq.optional(tag);
  if (el === undefined) return [];
  const list = DerReader.inside(buf, el);
  const out: NameSubtree[] = [];
  while (!list.done) {
    const subtree = list.enter(TAG.SEQUENCE, 'GeneralSubtree');
    const base = subtree.next();
    // minimum/maximum are never used in practice; a subtree with them is one we cannot evaluate.
    const bounded = !subtree.done;
    const value = buf.toString('latin1', base.contentStart, base.end);
    if (!bounded && base.tag === GN_URI) out.push({ kind: 'uri', value });
    else if (!bounded && base.tag === GN_DNS) out.push({ kind: 'dns', value });
    else out.push({ kind: 'other', value: '' });
  }
  if (out.length === 0) throw malformed('GeneralSubtrees must not be empty');
  return out;
}
