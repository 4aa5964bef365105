/**
 * A minimal, strict DER reader for the few structures the CA must read: a
 * PKCS#10 request, a SubjectPublicKeyInfo and the parts of an upstream
 * certificate. Definite lengths only, bounds checked; throws `SyntaxError`.
 */

export interface Tlv {
  readonly tag: number;
  /** The whole TLV (header + content). */
  readonly raw: Buffer;
  readonly content: Buffer;
}

/** Reads the TLV at `offset`; returns it and the offset after it. */
export function readTlv(buf: Buffer, offset = 0): { tlv: Tlv; next: number } {
  if (offset + 2 > buf.length) throw new SyntaxError('DER: truncated header');
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new SyntaxError('DER: multi-byte tags are not supported');
  let length = buf[offset + 1]!;
  let pos = offset + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 4) throw new SyntaxError('DER: indefinite or oversized length');
    if (pos + count > buf.length) throw new SyntaxError('DER: truncated length');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + buf[pos + i]!;
    if (length < 0x80 || (count > 1 && buf[pos] === 0)) throw new SyntaxError('DER: non-minimal length');
    pos += count;
  }
  const end = pos + length;
  if (end > buf.length) throw new SyntaxError('DER: value runs past the end');
  return { tlv: { tag, raw: buf.subarray(offset, end), content: buf.subarray(pos, end) }, next: end };
}

/** Reads exactly one TLV covering all of `buf`. */
export function readWhole(buf: Buffer, expectedTag?: number): Tlv {
  const { tlv, next } = readTlv(buf, 0);
  if (next !== buf.length) throw new SyntaxError('DER: trailing bytes');
  if (expectedTag !== undefined && tlv.tag !== expectedTag) throw new SyntaxError(`DER: expected tag 0x${expectedTag.toString(16)}, found 0x${tlv.tag.toString(16)}`);
  return tlv;
}

/** The child TLVs of a constructed value. */
export function children(parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  let offset = 0;
  while (offset < parent.content.length) {
    const { tlv, next } = readTlv(parent.content, offset);
    out.push(tlv);
    offset = next;
  }
  return out;
}

/** Dotted form of an OID TLV's content. */
export function oidToString(content: Buffer): string {
  if (content.length === 0) throw new SyntaxError('DER: empty OID');
  const arcs: bigint[] = [];
  let value = 0n;
  for (const byte of content) {
    value = (value << 7n) | BigInt(byte & 0x7f);
    if ((byte & 0x80) === 0) {
      arcs.push(value);
      value = 0n;
    }
  }
  if ((content[content.length - 1]! & 0x80) !== 0) throw new SyntaxError('DER: truncated OID');
  const first = arcs.shift()!;
  const head = first < 80n ? [first / 40n, first % 40n] : [2n, first - 80n];
  return [...head, ...arcs].join('.');
}

/** The subjectPublicKey bits (without the unused-bits byte) of a SubjectPublicKeyInfo. */
export function subjectPublicKeyBits(spki: Buffer): Buffer {
  const parts = children(readWhole(spki, 0x30));
  const bits = parts[1];
  if (parts.length !== 2 || bits === undefined || bits.tag !== 0x03 || bits.content.length < 1) throw new SyntaxError('DER: malformed SubjectPublicKeyInfo');
  return bits.content.subarray(1);
}
