/**
 * The JOSE header of a JWT-SVID (JWT-SVID.md §2): `alg` from the allow-list,
 * optional `kid` and `typ`, and nothing else — the spec says any other header
 * MUST NOT be included, so `jku`, `x5u`, `jwk`, `x5c`, `crit` (even `[]`) and
 * unknown members are refused rather than ignored.
 *
 * Issuers repeat the same header on every token, so valid headers are cached
 * by their base64url text in a small bounded map: the hot path then skips
 * decoding and JSON parsing.
 */
import { lookupAlgorithm, type JwsAlgorithm } from './algorithms.js';
import { decodeJsonObject } from './json-segment.js';
import { JwtSvidError, quote } from './jwt-svid-error.js';

export interface JwtSvidHeader {
  readonly alg: JwsAlgorithm;
  readonly kid: string | undefined;
  readonly typ: 'JWT' | 'JOSE' | undefined;
}

const ALLOWED_MEMBERS = new Set(['alg', 'kid', 'typ']);
/** Headers that would fetch or embed keys, or declare extensions; named in their own message. */
const KEY_OR_EXTENSION_MEMBERS = new Set(['jku', 'x5u', 'jwk', 'x5c', 'x5t', 'x5t#S256', 'crit']);

const CACHE_LIMIT = 256;
/** Longer header segments are validated but not cached, to bound the cache's memory. */
const CACHEABLE_LENGTH = 1024;
const cache = new Map<string, JwtSvidHeader>();

/** Parses and checks the header segment (already checked to be base64url). */
export function parseHeader(segment: string): JwtSvidHeader {
  const cached = cache.get(segment);
  if (cached !== undefined) return cached;
  const header = readHeader(segment);
  if (segment.length <= CACHEABLE_LENGTH) {
    // First-in, first-out: a flood of distinct headers only churns the cache.
    if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!);
    // `segment` is a slice of the token, and V8 slices keep their parent alive:
    // cache a copy so no bearer token outlives its request inside the cache.
    cache.set(Buffer.from(segment, 'latin1').toString('latin1'), header);
  }
  return header;
}

function readHeader(segment: string): JwtSvidHeader {
  const members = decodeJsonObject(segment, 'header');
  // The algorithm is checked before anything else, and long before any key is touched.
  if (!Object.hasOwn(members, 'alg')) throw new JwtSvidError('ERR_JWT_SVID_UNSUPPORTED_ALG', 'token header has no "alg"');
  const alg = lookupAlgorithm(members.alg);
  if (alg === undefined) throw new JwtSvidError('ERR_JWT_SVID_UNSUPPORTED_ALG', `unsupported token signature algorithm ${quote(members.alg)}`);
  for (const name of Object.keys(members)) {
    if (KEY_OR_EXTENSION_MEMBERS.has(name)) {
      throw new JwtSvidError('ERR_JWT_SVID_FORBIDDEN_HEADER', `token header ${quote(name)} is not allowed in a JWT-SVID; keys come only from the trust bundle`);
    }
    if (!ALLOWED_MEMBERS.has(name)) throw new JwtSvidError('ERR_JWT_SVID_FORBIDDEN_HEADER', `token header ${quote(name)} is not allowed in a JWT-SVID`);
  }
  const kid = members.kid;
  if (kid !== undefined && (typeof kid !== 'string' || kid.length === 0)) {
    throw new JwtSvidError('ERR_JWT_SVID_MALFORMED', 'token header "kid" must be a non-empty string');
  }
  const typ = members.typ;
  if (typ !== undefined && typ !== 'JWT' && typ !== 'JOSE') {
    throw new JwtSvidError('ERR_JWT_SVID_BAD_TYP', `token header "typ" must be "JWT" or "JOSE", got ${quote(typ)}`);
  }
  return Object.freeze({ alg, kid, typ });
}
