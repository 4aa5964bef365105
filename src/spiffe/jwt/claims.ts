/**
 * The JWT-SVID claims (JWT-SVID.md §3): `sub` a SPIFFE ID with a path, `aud`
 * one or more audiences, `exp` required; `nbf` and `iat` checked when present
 * (RFC 7519 §4.1). Dates must be finite numbers; JSON `1e400` parses to
 * Infinity, so `typeof` alone is not enough.
 */
import { SpiffeId } from '../spiffe-id.js';
import { JwtSvidError, quote } from './jwt-svid-error.js';
import type { ValidationTime } from './validation-options.js';

/** Reads `sub`; runs before key selection because its trust domain picks the bundle. */
export function readSubject(claims: Record<string, unknown>): SpiffeId {
  const sub = claims.sub;
  if (sub === undefined) throw new JwtSvidError('ERR_JWT_SVID_MISSING_SUB', 'token missing subject claim');
  const id = typeof sub === 'string' ? SpiffeId.tryParse(sub) : null;
  if (id === null) throw new JwtSvidError('ERR_JWT_SVID_BAD_SUBJECT', `token has an invalid subject claim ${quote(sub)}: not a SPIFFE ID`);
  if (id.isTrustDomainId()) throw new JwtSvidError('ERR_JWT_SVID_BAD_SUBJECT', `token subject ${quote(sub)} is a trust domain ID; a workload ID has a path`);
  return id;
}

/** The largest time a JavaScript Date holds (ECMA-262 §21.4.1.1), in seconds. */
const MAX_DATE_SECONDS = 8.64e12;

export interface CheckedClaims {
  readonly audience: readonly string[];
  readonly exp: number;
}

/** Checks every claim but `sub`; the caller has already verified the signature. */
export function checkClaims(
  claims: Record<string, unknown>,
  expected: string | readonly string[],
  time: ValidationTime,
  singleAudience: boolean,
): CheckedClaims {
  const audience = readAudience(claims.aud);
  const exp = claims.exp;
  if (exp === undefined) throw new JwtSvidError('ERR_JWT_SVID_MISSING_EXP', 'token missing exp claim');
  if (!isNumericDate(exp)) throw new JwtSvidError('ERR_JWT_SVID_INVALID_CLAIM', 'token "exp" claim must be a finite number');
  // `expiresAt` is a Date; past year 275760 there is none to give.
  if (exp > MAX_DATE_SECONDS) throw new JwtSvidError('ERR_JWT_SVID_INVALID_CLAIM', 'token "exp" claim is beyond any representable date');
  const { nbf, iat } = claims;
  if (nbf !== undefined && !isNumericDate(nbf)) throw new JwtSvidError('ERR_JWT_SVID_INVALID_CLAIM', 'token "nbf" claim must be a finite number');
  if (iat !== undefined && !isNumericDate(iat)) throw new JwtSvidError('ERR_JWT_SVID_INVALID_CLAIM', 'token "iat" claim must be a finite number');

  if (exp <= time.now - time.leeway) throw new JwtSvidError('ERR_JWT_SVID_EXPIRED', 'token has expired');
  if (nbf !== undefined && nbf > time.now + time.leeway) throw new JwtSvidError('ERR_JWT_SVID_NOT_YET_VALID', 'token is not valid yet');
  // As go-jose (and so go-spiffe) does: a token from the future means a broken or hostile issuer clock.
  if (iat !== undefined && iat > time.now + time.leeway) throw new JwtSvidError('ERR_JWT_SVID_ISSUED_IN_FUTURE', 'token issued in the future');

  if (singleAudience && audience.length > 1) {
    throw new JwtSvidError('ERR_JWT_SVID_MULTIPLE_AUDIENCES', `token names ${audience.length} audiences; only single-audience tokens are accepted`);
  }
  if (!containsAny(audience, expected)) throw new JwtSvidError('ERR_JWT_SVID_AUDIENCE_MISMATCH', 'token audience does not include an expected audience');
  return { audience, exp };
}

function isNumericDate(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function readAudience(aud: unknown): readonly string[] {
  if (aud === undefined) throw new JwtSvidError('ERR_JWT_SVID_MISSING_AUD', 'token missing audience claim');
  if (typeof aud === 'string') return [aud];
  if (!Array.isArray(aud)) throw new JwtSvidError('ERR_JWT_SVID_INVALID_CLAIM', 'token "aud" claim must be a string or an array of strings');
  // `aud: []` names nobody; treating it as "no restriction" was jwt-go's CVE-2020-26160.
  if (aud.length === 0) throw new JwtSvidError('ERR_JWT_SVID_MISSING_AUD', 'token audience claim is empty');
  for (const value of aud) {
    if (typeof value !== 'string') throw new JwtSvidError('ERR_JWT_SVID_INVALID_CLAIM', 'token "aud" claim must be a string or an array of strings');
  }
  return aud as string[];
}

function containsAny(audience: readonly string[], expected: string | readonly string[]): boolean {
  if (typeof expected === 'string') return audience.includes(expected);
  for (const value of expected) if (audience.includes(value)) return true;
  return false;
}
