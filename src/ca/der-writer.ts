/**
 * A minimal DER writer: exactly the encodings an X.509 certificate needs,
 * producing Buffers that callers concatenate. No generic ASN.1 model, so the
 * minting hot path allocates little.
 */

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** One TLV from its content parts, written into a single allocation. */
export function tlv(tag: number, ...content: Buffer[]): Buffer {
  let length = 0;
  for (const part of content) length += part.length;
  const headerLength = length < 0x80 ? 2 : length < 0x100 ? 3 : length < 0x10000 ? 4 : length < 0x1000000 ? 5 : -1;
  if (headerLength < 0) throw new RangeError('DER value too large');
  const out = Buffer.allocUnsafe(headerLength + length);
  out[0] = tag;
  if (headerLength === 2) out[1] = length;
  else {
    out[1] = 0x80 | (headerLength - 2);
    for (let i = headerLength - 1, v = length; i >= 2; i--, v >>>= 8) out[i] = v & 0xff;
  }
  let offset = headerLength;
  for (const part of content) offset += part.copy(out, offset);
  return out;
}

export const sequence = (...content: Buffer[]): Buffer => tlv(TAG.SEQUENCE, ...content);
export const set = (...content: Buffer[]): Buffer => tlv(TAG.SET, ...content);
export const octetString = (content: Buffer): Buffer => tlv(TAG.OCTET_STRING, content);
/** A BIT STRING of whole bytes (no unused bits). */
export const bitString = (content: Buffer): Buffer => tlv(TAG.BIT_STRING, Buffer.from([0]), content);
export const ia5String = (text: string): Buffer => tlv(TAG.IA5_STRING, Buffer.from(text, 'latin1'));
export const printableString = (text: string): Buffer => tlv(TAG.PRINTABLE_STRING, Buffer.from(text, 'latin1'));
export const utf8String = (text: string): Buffer => tlv(TAG.UTF8_STRING, Buffer.from(text, 'utf8'));
/** `[n]` EXPLICIT (constructed, context-specific). */
export const explicit = (n: number, ...content: Buffer[]): Buffer => tlv(0xa0 | n, ...content);
/** `[n]` IMPLICIT primitive (e.g. GeneralName uniformResourceIdentifier [6], dNSName [2]). */
export const implicitPrimitive = (n: number, content: Buffer): Buffer => tlv(0x80 | n, content);

export const BOOLEAN_TRUE = Buffer.from([TAG.BOOLEAN, 1, 0xff]);

/** An OID from its dotted form. */
export function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map((arc) => BigInt(arc));
  if (arcs.length < 2) throw new RangeError(`bad OID ${dotted}`);
  const bytes: number[] = [];
  const encodeArc = (value: bigint): void => {
    const chunk: number[] = [Number(value & 0x7fn)];
    for (let v = value >> 7n; v > 0n; v >>= 7n) chunk.unshift(Number(v & 0x7fn) | 0x80);
    bytes.push(...chunk);
  };
  encodeArc(arcs[0]! * 40n + arcs[1]!);
  for (const arc of arcs.slice(2)) encodeArc(arc);
  return tlv(TAG.OID, Buffer.from(bytes));
}

/** A non-negative INTEGER from big-endian magnitude bytes (minimal encoding). */
export function unsignedInteger(magnitude: Buffer): Buffer {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  const body = magnitude.subarray(start);
  if (body.length === 0) return Buffer.from([TAG.INTEGER, 1, 0]);
  return (body[0]! & 0x80) !== 0 ? tlv(TAG.INTEGER, Buffer.from([0]), body) : tlv(TAG.INTEGER, body);
}

const pad2 = (n: number): string => (n < 10 ? '0' : '') + n;

/**
 * RFC 5280 §4.1.2.5: UTCTime (YYMMDDHHMMSSZ) through 2049, GeneralizedTime
 * (YYYYMMDDHHMMSSZ) from 2050. Sub-second parts are dropped.
 */
export function time(date: Date): Buffer {
  const y = date.getUTCFullYear();
  const rest = pad2(date.getUTCMonth() + 1) + pad2(date.getUTCDate()) + pad2(date.getUTCHours()) + pad2(date.getUTCMinutes()) + pad2(date.getUTCSeconds()) + 'Z';
  if (y >= 1950 && y < 2050) return tlv(TAG.UTC_TIME, Buffer.from(pad2(y % 100) + rest, 'latin1'));
  if (y < 0 || y > 9999) throw new RangeError('date outside the years 0000-9999');
  return tlv(TAG.GENERALIZED_TIME, Buffer.from(String(y).padStart(4, '0') + rest, 'latin1'));
}
