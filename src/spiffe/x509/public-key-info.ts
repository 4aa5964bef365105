/**
 * What kind of key a SubjectPublicKeyInfo holds, read from its ASN.1 so that
 * policy checks (allowed curves, RSA size) cost no KeyObject import.
 */
import { DerReader, TAG, decodeOctetAlignedBits, decodeOid, type DerElement } from './der-reader.js';
import { OID } from './oids.js';
import { malformed } from './x509-svid-error.js';

export type PublicKeyKind =
  | { readonly type: 'ec'; readonly curve: 'P-256' | 'P-384' | 'P-521' }
  | { readonly type: 'rsa'; readonly bits: number }
  | { readonly type: 'unsupported'; readonly algorithm: string };

const CURVES: Record<string, 'P-256' | 'P-384' | 'P-521'> = { __proto__: null } as unknown as Record<string, 'P-256' | 'P-384' | 'P-521'>;
CURVES[OID.p256] = 'P-256';
CURVES[OID.p384] = 'P-384';
CURVES[OID.p521] = 'P-521';

export function readPublicKeyKind(buf: Buffer, spki: DerElement): PublicKeyKind {
  const seq = DerReader.inside(buf, spki);
  const alg = seq.enter(TAG.SEQUENCE, 'SubjectPublicKeyInfo algorithm');
  const bitsEl = seq.expect(TAG.BIT_STRING, 'subjectPublicKey');
  seq.finish('SubjectPublicKeyInfo');
  if (bitsEl.end === bitsEl.contentStart || buf[bitsEl.contentStart] !== 0) throw malformed('subjectPublicKey must be a whole number of bytes');
  const algorithm = decodeOid(buf, alg.expect(TAG.OID, 'key algorithm'));
  if (algorithm === OID.ecPublicKey) {
    const param = alg.optional(TAG.OID);
    alg.finish('EC key parameters');
    const curve = param === undefined ? undefined : CURVES[decodeOid(buf, param)];
    return curve === undefined ? { type: 'unsupported', algorithm: `${algorithm} (curve)` } : { type: 'ec', curve };
  }
  if (algorithm === OID.rsaEncryption) {
    alg.optional(TAG.NULL);
    alg.finish('RSA key parameters');
    return { type: 'rsa', bits: rsaModulusBits(decodeOctetAlignedBits(buf, bitsEl, 'subjectPublicKey')) };
  }
  return { type: 'unsupported', algorithm };
}

/** Bit length of the modulus in an RSAPublicKey `SEQUENCE { n INTEGER, e INTEGER }`. */
function rsaModulusBits(key: Buffer): number {
  const outer = new DerReader(key);
  const seq = outer.enter(TAG.SEQUENCE, 'RSAPublicKey');
  outer.finish('RSAPublicKey');
  const n = seq.expect(TAG.INTEGER, 'RSA modulus');
  let i = n.contentStart;
  while (i < n.end && key[i] === 0) i++;
  if (i === n.end) throw malformed('RSA modulus is zero');
  return (n.end - i - 1) * 8 + (32 - Math.clz32(key[i]!));
}
