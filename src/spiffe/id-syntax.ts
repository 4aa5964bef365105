/**
 * Byte-level syntax of SPIFFE IDs (SPIFFE-ID.md §2), as go-spiffe checks it.
 * Everything works on the raw string: no URL parser, no case folding, no
 * percent-decoding, so a security check never depends on a normalisation.
 */
import { SpiffeIdError } from './spiffe-id-error.js';

export const SCHEME_PREFIX = 'spiffe://';
export const MAX_ID_LENGTH = 2048;
export const MAX_TRUST_DOMAIN_LENGTH = 255;

const TRUST_DOMAIN_CHARS = new Uint8Array(128);
const PATH_CHARS = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  const lower = ch >= 'a' && ch <= 'z';
  const upper = ch >= 'A' && ch <= 'Z';
  const digit = ch >= '0' && ch <= '9';
  const punct = ch === '.' || ch === '-' || ch === '_';
  TRUST_DOMAIN_CHARS[c] = lower || digit || punct ? 1 : 0;
  PATH_CHARS[c] = lower || upper || digit || punct ? 1 : 0;
}

/** Shows one offending character safely (control bytes and non-ASCII as escapes). */
function describeChar(s: string, index: number): string {
  const code = s.charCodeAt(index);
  const shown = code >= 0x21 && code <= 0x7e ? s[index] : `\\u${code.toString(16).padStart(4, '0')}`;
  return `"${shown}" at index ${index}`;
}

/** Checks `s[start, end)` as a trust domain name. */
export function checkTrustDomainChars(s: string, start: number, end: number): void {
  if (end === start) {
    throw new SpiffeIdError('ERR_SPIFFE_ID_MISSING_TRUST_DOMAIN', 'trust domain is missing');
  }
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || TRUST_DOMAIN_CHARS[c] === 0) {
      throw new SpiffeIdError(
        'ERR_SPIFFE_ID_BAD_TRUST_DOMAIN_CHAR',
        `trust domain characters are limited to lowercase letters, numbers, dots, dashes, and underscores (found ${describeChar(s, i)})`,
      );
    }
  }
  if (end - start > MAX_TRUST_DOMAIN_LENGTH) {
    throw new SpiffeIdError(
      'ERR_SPIFFE_ID_TRUST_DOMAIN_TOO_LONG',
      `trust domain is ${end - start} bytes; at most ${MAX_TRUST_DOMAIN_LENGTH} are allowed`,
    );
  }
}

/** Checks `s[start, end)` as a SPIFFE ID path; the empty path is valid. */
export function checkPath(s: string, start: number, end: number = s.length): void {
  if (start === end) return;
  if (s.charCodeAt(start) !== 0x2f) {
    throw new SpiffeIdError('ERR_SPIFFE_ID_NO_LEADING_SLASH', 'path must have a leading slash');
  }
  let segmentStart = start + 1;
  for (let i = start + 1; i <= end; i++) {
    const c = i === end ? 0x2f : s.charCodeAt(i);
    if (c === 0x2f) {
      checkSegment(s, segmentStart, i, i === end);
      segmentStart = i + 1;
    } else if (c >= 128 || PATH_CHARS[c] === 0) {
      throw new SpiffeIdError(
        'ERR_SPIFFE_ID_BAD_PATH_CHAR',
        `path segment characters are limited to letters, numbers, dots, dashes, and underscores (found ${describeChar(s, i)})`,
      );
    }
  }
}

function checkSegment(s: string, start: number, end: number, last: boolean): void {
  const length = end - start;
  if (length === 0) {
    throw last
      ? new SpiffeIdError('ERR_SPIFFE_ID_TRAILING_SLASH', 'path cannot have a trailing slash')
      : new SpiffeIdError('ERR_SPIFFE_ID_EMPTY_SEGMENT', 'path cannot contain empty segments');
  }
  const dot = 0x2e;
  if ((length === 1 && s.charCodeAt(start) === dot) || (length === 2 && s.charCodeAt(start) === dot && s.charCodeAt(start + 1) === dot)) {
    throw new SpiffeIdError('ERR_SPIFFE_ID_DOT_SEGMENT', 'path cannot contain dot segments');
  }
}

export function requireString(value: unknown, what: string): string {
  if (typeof value !== 'string') {
    throw new SpiffeIdError('ERR_SPIFFE_ID_NOT_A_STRING', `${what} must be a string, got ${value === null ? 'null' : typeof value}`);
  }
  return value;
}
