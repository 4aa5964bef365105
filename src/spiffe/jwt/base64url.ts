/**
 * Strict base64url (RFC 7515 §2, RFC 4648 §5): only `A–Z a–z 0–9 - _`, no
 * padding, no whitespace, and canonical trailing bits. Buffer's own decoder
 * skips bad characters silently, so every segment is checked here first.
 */
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/** Value of each ASCII code, or 255 for characters outside the alphabet. */
const VALUE = new Uint8Array(128).fill(255);
for (let i = 0; i < ALPHABET.length; i++) VALUE[ALPHABET.charCodeAt(i)] = i;

/** True when `text[start, end)` is canonical, unpadded base64url. */
export function isBase64Url(text: string, start: number, end: number): boolean {
  const length = end - start;
  if (length % 4 === 1) return false;
  let last = 0;
  for (let i = start; i < end; i++) {
    const code = text.charCodeAt(i);
    last = code < 128 ? VALUE[code]! : 255;
    if (last === 255) return false;
  }
  // The unused low bits of the final character must be zero, so each byte
  // string has exactly one encoding.
  if (length % 4 === 2) return (last & 0x0f) === 0;
  if (length % 4 === 3) return (last & 0x03) === 0;
  return true;
}

/** Decodes a segment already checked by `isBase64Url`. */
export function decodeBase64Url(segment: string): Buffer {
  return Buffer.from(segment, 'base64url');
}
