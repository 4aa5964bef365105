/**
 * Decodes a base64url segment into a JSON object: valid UTF-8 only (no
 * replacement characters smuggled in), one strict parse that refuses
 * duplicate members, and an object at the top.
 */
import { isUtf8 } from 'node:buffer';
import { DuplicateMemberError, parseStrictJson } from '../strict-json.js';
import { decodeBase64Url } from './base64url.js';
import { JwtSvidError } from './jwt-svid-error.js';

export function decodeJsonObject(segment: string, what: 'header' | 'payload'): Record<string, unknown> {
  const bytes = decodeBase64Url(segment);
  if (!isUtf8(bytes)) throw new JwtSvidError('ERR_JWT_SVID_MALFORMED', `token ${what} is not valid UTF-8`);
  let json: unknown;
  try {
    json = parseStrictJson(bytes.toString('utf8'));
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
