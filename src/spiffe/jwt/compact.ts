/**
 * Splits a JWS in compact serialization (RFC 7515 §7.1) into its three
 * segments. The length is capped before any scanning, and only three
 * `indexOf` calls run, so a "token" of thousands of dots costs nothing.
 */
import { isBase64Url } from './base64url.js';
import { JwtSvidError } from './jwt-svid-error.js';

/** Far above any real JWT-SVID (SPIRE's are well under 1 KiB), far below harm. */
export const MAX_JWT_SVID_LENGTH = 16 * 1024;

export interface CompactParts {
  readonly header: string;
  readonly payload: string;
  readonly signature: string;
  /** `header.payload`, the bytes the signature covers. */
  readonly signingInput: string;
}

export function splitCompact(token: unknown): CompactParts {
  if (typeof token !== 'string') throw new JwtSvidError('ERR_JWT_SVID_MALFORMED', 'token must be a string');
  if (token.length > MAX_JWT_SVID_LENGTH) {
    throw new JwtSvidError('ERR_JWT_SVID_TOO_LARGE', `token is ${token.length} characters; at most ${MAX_JWT_SVID_LENGTH} are accepted`);
  }
  const first = token.indexOf('.');
  const second = first === -1 ? -1 : token.indexOf('.', first + 1);
  if (second === -1 || token.indexOf('.', second + 1) !== -1) {
    const hint = token.charCodeAt(0) === 0x7b /* { */ ? ' (JWS JSON serialization is not accepted)' : '';
    throw new JwtSvidError('ERR_JWT_SVID_MALFORMED', `token is not in JWS compact serialization: expected three dot-separated parts${hint}`);
  }
  if (first === 0 || second === first + 1) throw new JwtSvidError('ERR_JWT_SVID_MALFORMED', 'token has an empty header or payload');
  if (!isBase64Url(token, 0, first)) throw new JwtSvidError('ERR_JWT_SVID_MALFORMED', 'token header is not base64url');
  if (!isBase64Url(token, first + 1, second)) throw new JwtSvidError('ERR_JWT_SVID_MALFORMED', 'token payload is not base64url');
  if (!isBase64Url(token, second + 1, token.length)) throw new JwtSvidError('ERR_JWT_SVID_MALFORMED', 'token signature is not base64url');
  return {
    header: token.slice(0, first),
    payload: token.slice(first + 1, second),
    signature: token.slice(second + 1),
    signingInput: token.slice(0, second),
  };
}
