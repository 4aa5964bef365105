/**
 * Decodes a base64url segment into a JSON object: valid UTF-8 only (no
 * replacement characters smuggled in), one parse that refuses duplicate
 * members, and an object at the top.
 */
import { isUtf8 } from 'node:buffer';
import { DuplicateMemberError, parseStrictJson } from '../strict-json.js';
import { decodeBase64Url } from './base64url.js';
import { JwtSvidError } from './jwt-svid-error.js';

export function decodeJsonObject(segment: string, what: 'header' | 'payload'): Record<string, unknown> {
  const bytes = decodeBase64Url(segment);
  if (!isUtf8(bytes)) throw new JwtSvidError('ERR_JWT_SVID_MALFORMED', `token ${what} is not valid UTF-8`);
  const text = bytes.toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
    if (!isFlatObjectWithoutDuplicates(text, json)) json = parseStrictJson(text);
  } catch (err) {
    // The parser's own message would echo token bytes; ours stays constant.
    if (err instanceof DuplicateMemberError) throw new JwtSvidError('ERR_JWT_SVID_MALFORMED', `token ${what} has a duplicate member`);
    throw new JwtSvidError('ERR_JWT_SVID_MALFORMED', `token ${what} is not valid JSON`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new JwtSvidError('ERR_JWT_SVID_MALFORMED', `token ${what} is not a JSON object`);
  }
  return json as Record<string, unknown>;
}

/**
 * Fast path for the usual JWT: one object whose values hold no objects. Then
 * the parsed object has as many keys as the text has member names exactly
 * when no name repeats, so counting names is enough (no key decoding, no
 * Set). Returns false when unsure (nested objects, not an object); the caller
 * then runs the general strict parser.
 */
export function isFlatObjectWithoutDuplicates(text: string, parsed: unknown): boolean {
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return false;
  let depth = 0;
  let expectName = false;
  let names = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      if (expectName) {
        names++;
        expectName = false;
      }
      // Skip to the closing quote; the text is valid JSON, so it exists.
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c /* \ */) i++;
        else if (d === 0x22) break;
      }
    } else if (c === 0x7b /* { */) {
      if (depth !== 0) return false;
      depth = 1;
      expectName = true;
    } else if (c === 0x5b /* [ */) {
      depth++;
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) {
      depth--;
    } else if (c === 0x2c /* , */ && depth === 1) {
      expectName = true;
    }
  }
  return names === Object.keys(parsed).length;
}
