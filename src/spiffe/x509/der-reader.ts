/**
 * A strict, bounded DER reader: just enough ASN.1 for X.509 certificates.
 * It never recurses on its own (callers descend one known level at a time, so
 * nesting depth is fixed by the certificate grammar), never copies (elements
 * are offsets into the one buffer), and rejects BER leniencies: indefinite or
 * non-minimal lengths, high tag numbers, lengths past the enclosing element.
 */
import { malformed } from './x509-svid-error.js';

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** `[n]` context-specific tags, primitive and constructed. */
export const contextTag = (n: number, constructed: boolean): number => 0x80 | (constructed ? 0x20 : 0) | n;

/** One TLV: `start` is the tag byte, `[contentStart, end)` the value. */
export interface DerElement {
  readonly tag: number;
  readonly start: number;
  readonly contentStart: number;
  readonly end: number;
}

export class DerReader {
  readonly buf: Buffer;
  #pos: number;
  readonly #end: number;

  constructor(buf: Buffer, start = 0, end = buf.length) {
    this.buf = buf;
    this.#pos = start;
    this.#end = end;
  }

  /** A reader over the content of `el`. */
  static inside(buf: Buffer, el: DerElement): DerReader {
    return new DerReader(buf, el.contentStart, el.end);
  }

  get done(): boolean {
    return this.#pos >= this.#end;
  }

  get position(): number {
    return this.#pos;
  }

  /** The next tag without consuming it; -1 at the end. */
  peekTag(): number {
    return this.#pos < this.#end ? this.buf[this.#pos]! : -1;
  }

  /** Reads the next element, whatever its tag. */
  next(): DerElement {
    const buf = this.buf;
    const end = this.#end;
    const start = this.#pos;
    if (start + 2 > end) throw malformed('truncated element');
    const tag = buf[start]!;
    if ((tag & 0x1f) === 0x1f) throw malformed('high tag numbers are not used in certificates');
    let first = buf[start + 1]!;
    let contentStart = start + 2;
    let length: number;
    if (first < 0x80) {
      length = first;
    } else {
      const count = first & 0x7f;
      if (count === 0) throw malformed('indefinite length is not DER');
      if (count > 4) throw malformed('length field is too long');
      if (contentStart + count > end) throw malformed('truncated length');
      first = buf[contentStart]!;
      if (first === 0) throw malformed('length is not minimally encoded');
      length = 0;
      for (let i = 0; i < count; i++) length = length * 256 + buf[contentStart + i]!;
      if (length < 0x80) throw malformed('length is not minimally encoded');
      contentStart += count;
    }
    if (length > end - contentStart) throw malformed('length runs past the end of the data');
    this.#pos = contentStart + length;
    return { tag, start, contentStart, end: contentStart + length };
  }

  /** Reads the next element and requires its tag. */
  expect(tag: number, what: string): DerElement {
    if (this.peekTag() !== tag) throw malformed(`expected ${what}`);
    return this.next();
  }

  /** Reads the next element only when it has `tag`. */
  optional(tag: number): DerElement | undefined {
    return this.peekTag() === tag ? this.next() : undefined;
  }

  /** Enters a constructed element with `tag`. */
  enter(tag: number, what: string): DerReader {
    return DerReader.inside(this.buf, this.expect(tag, what));
  }

  /** Requires that nothing is left (no trailing bytes inside a structure). */
  finish(what: string): void {
    if (this.#pos !== this.#end) throw malformed(`unexpected data after ${what}`);
  }
}

/** Dotted form of an OBJECT IDENTIFIER's content, strictly encoded. */
export function decodeOid(buf: Buffer, el: DerElement): string {
  const { contentStart: start, end } = el;
  if (start === end || end - start > 64) throw malformed('object identifier has a bad length');
  if ((buf[end - 1]! & 0x80) !== 0) throw malformed('object identifier is truncated');
  let out = '';
  let value = 0;
  let first = true;
  for (let i = start; i < end; i++) {
    const b = buf[i]!;
    if (value === 0 && b === 0x80) throw malformed('object identifier is not minimally encoded');
    value = value * 128 + (b & 0x7f);
    if (value > Number.MAX_SAFE_INTEGER / 128) throw malformed('object identifier arc is too large');
    if ((b & 0x80) !== 0) continue;
    if (first) {
      const top = value < 40 ? 0 : value < 80 ? 1 : 2;
      out = `${top}.${value - top * 40}`;
      first = false;
    } else {
      out += `.${value}`;
    }
    value = 0;
  }
  return out;
}

/** A DER BOOLEAN: exactly one byte, 0x00 or 0xff. */
export function decodeBoolean(buf: Buffer, el: DerElement): boolean {
  if (el.end - el.contentStart !== 1) throw malformed('BOOLEAN must be one byte');
  const b = buf[el.contentStart]!;
  if (b !== 0x00 && b !== 0xff) throw malformed('BOOLEAN must be 0x00 or 0xff');
  return b === 0xff;
}

/** A small non-negative INTEGER (pathLenConstraint and the like). */
export function decodeSmallUint(buf: Buffer, el: DerElement, what: string): number {
  const len = el.end - el.contentStart;
  if (len === 0 || len > 4) throw malformed(`${what} is out of range`);
  const first = buf[el.contentStart]!;
  if (first & 0x80) throw malformed(`${what} is negative`);
  if (len > 1 && first === 0 && (buf[el.contentStart + 1]! & 0x80) === 0) throw malformed(`${what} is not minimally encoded`);
  let value = 0;
  for (let i = el.contentStart; i < el.end; i++) value = value * 256 + buf[i]!;
  return value;
}

/** The content bytes of a BIT STRING that must have no unused bits (keys, signatures). */
export function decodeOctetAlignedBits(buf: Buffer, el: DerElement, what: string): Buffer {
  if (el.end - el.contentStart < 1 || buf[el.contentStart] !== 0) throw malformed(`${what} must be a whole number of bytes`);
  return buf.subarray(el.contentStart + 1, el.end);
}
