/**
 * Reads the few fields of a DER certificate the CA needs about a certificate
 * it did not just build (its own, reloaded; an upstream one): subject name,
 * key, validity, key identifiers, CA flags. Signature checks are left to
 * node:crypto's `X509Certificate`.
 */
import { children, oidToString, readWhole, type Tlv } from './der-reader.js';

export interface CertificateInfo {
  readonly der: Buffer;
  readonly serialHex: string;
  readonly subject: Buffer;
  readonly spki: Buffer;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly subjectKeyId: Buffer | undefined;
  /** basicConstraints cA. */
  readonly isCa: boolean;
  /** keyUsage keyCertSign, or `undefined` when there is no keyUsage extension. */
  readonly keyCertSign: boolean | undefined;
}

function parseTime(tlv: Tlv): Date {
  const text = tlv.content.toString('latin1');
  let m: RegExpExecArray | null;
  if (tlv.tag === 0x17 && (m = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text))) {
    const yy = Number(m[1]);
    return new Date(Date.UTC(yy < 50 ? 2000 + yy : 1900 + yy, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])));
  }
  if (tlv.tag === 0x18 && (m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text))) {
    return new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])));
  }
  throw new SyntaxError('certificate: malformed validity time');
}

/** Throws `SyntaxError` when the DER is not a certificate of the expected shape. */
export function readCertificateInfo(der: Buffer): CertificateInfo {
  const top = children(readWhole(der, 0x30));
  const tbs = top[0];
  if (top.length !== 3 || tbs === undefined || tbs.tag !== 0x30) throw new SyntaxError('certificate: expected tbsCertificate, signatureAlgorithm, signature');
  const fields = children(tbs);
  let i = 0;
  if (fields[0]?.tag === 0xa0) i++;
  const [serial, , , validity, subject, spki] = fields.slice(i) as Array<Tlv | undefined>;
  if (serial?.tag !== 0x02 || validity?.tag !== 0x30 || subject?.tag !== 0x30 || spki?.tag !== 0x30) throw new SyntaxError('certificate: malformed tbsCertificate');
  const times = children(validity);
  if (times.length !== 2) throw new SyntaxError('certificate: malformed validity');
  let subjectKeyId: Buffer | undefined;
  let isCa = false;
  let keyCertSign: boolean | undefined;
  const extField = fields.find((f) => f.tag === 0xa3);
  if (extField !== undefined) {
    const list = children(extField)[0];
    for (const ext of list === undefined ? [] : children(list)) {
      const parts = children(ext);
      const id = oidToString(parts[0]!.content);
      const value = parts[parts.length - 1]!;
      if (value.tag !== 0x04) throw new SyntaxError('certificate: malformed extension');
      const inner = readWhole(value.content);
      if (id === '2.5.29.14' && inner.tag === 0x04) subjectKeyId = Buffer.from(inner.content);
      if (id === '2.5.29.19') {
        const bc = children(inner);
        isCa = bc[0]?.tag === 0x01 && bc[0].content[0] === 0xff;
      }
      if (id === '2.5.29.15' && inner.tag === 0x03) keyCertSign = ((inner.content[1] ?? 0) & 0x04) !== 0;
    }
  }
  return {
    der,
    serialHex: serial.content.toString('hex'),
    subject: Buffer.from(subject.raw),
    spki: Buffer.from(spki.raw),
    notBefore: parseTime(times[0]!),
    notAfter: parseTime(times[1]!),
    subjectKeyId,
    isCa,
    keyCertSign,
  };
}
