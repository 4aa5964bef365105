import { MeshwardError } from '../../errors.js';

export type JwtSvidErrorCode =
  | 'ERR_JWT_SVID_MALFORMED'
  | 'ERR_JWT_SVID_TOO_LARGE'
  | 'ERR_JWT_SVID_UNSUPPORTED_ALG'
  | 'ERR_JWT_SVID_FORBIDDEN_HEADER'
  | 'ERR_JWT_SVID_BAD_TYP'
  | 'ERR_JWT_SVID_NO_BUNDLE'
  | 'ERR_JWT_SVID_MISSING_KEY_ID'
  | 'ERR_JWT_SVID_UNKNOWN_KEY_ID'
  | 'ERR_JWT_SVID_NO_MATCHING_KEY'
  | 'ERR_JWT_SVID_ALG_KEY_MISMATCH'
  | 'ERR_JWT_SVID_BAD_SIGNATURE'
  | 'ERR_JWT_SVID_MISSING_SUB'
  | 'ERR_JWT_SVID_BAD_SUBJECT'
  | 'ERR_JWT_SVID_MISSING_AUD'
  | 'ERR_JWT_SVID_AUDIENCE_MISMATCH'
  | 'ERR_JWT_SVID_MULTIPLE_AUDIENCES'
  | 'ERR_JWT_SVID_MISSING_EXP'
  | 'ERR_JWT_SVID_INVALID_CLAIM'
  | 'ERR_JWT_SVID_EXPIRED'
  | 'ERR_JWT_SVID_NOT_YET_VALID'
  | 'ERR_JWT_SVID_ISSUED_IN_FUTURE';

/**
 * A token was refused as a JWT-SVID. Messages follow go-spiffe
 * (`jwtsvid: token has expired`) and never hold the token, a segment of it or
 * key material; attacker-chosen values (kid, alg, typ) appear only quoted and cut short.
 */
export class JwtSvidError extends MeshwardError {
  declare readonly code: JwtSvidErrorCode;

  constructor(code: JwtSvidErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, `jwtsvid: ${message}`, options);
  }
}

/** Quotes an untrusted value for a message: JSON-escaped and at most 64 characters. */
export function quote(value: unknown): string {
  const text = typeof value === 'string' ? value : String(typeof value);
  return JSON.stringify(text.length > 64 ? text.slice(0, 64) + '…' : text);
}
