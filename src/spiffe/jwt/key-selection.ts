/**
 * Finds the JWT authority that signed a token and checks the signature. Keys
 * come only from the bundle of the subject's trust domain (never from another
 * trust domain's bundle, never from the token). `kid` is an opaque key into
 * that bundle's map. Without a `kid` (allowed by JWT-SVID.md §2.2, though
 * go-spiffe requires one) the bundle's keys that fit the algorithm are tried
 * in turn; that is bounded, because each try is a full signature check.
 */
import type { Bundle } from '../bundle.js';
import type { JwtBundleSource } from '../sources.js';
import type { SpiffeId } from '../spiffe-id.js';
import { keyMismatch } from './algorithms.js';
import type { JwtSvidHeader } from './header.js';
import { JwtSvidError, quote } from './jwt-svid-error.js';
import { verifySignature } from './signature.js';

/** Most keys tried for a token without `kid`; SPIRE keeps about three (prepared, active, old). */
export const JWT_SVID_MAX_KEYS_TRIED_WITHOUT_KID = 8;

export function verifyWithTrustBundle(
  source: JwtBundleSource,
  id: SpiffeId,
  header: JwtSvidHeader,
  signingInput: string,
  signature: Buffer,
): void {
  const bundle = bundleFor(source, id);
  const data = Buffer.from(signingInput, 'latin1'); // ASCII: checked as base64url
  if (header.kid !== undefined) {
    const authority = bundle.getJwtAuthority(header.kid);
    if (authority === undefined) {
      throw new JwtSvidError('ERR_JWT_SVID_UNKNOWN_KEY_ID', `no JWT authority ${quote(header.kid)} found for trust domain ${quote(id.trustDomain.name)}`);
    }
    const mismatch = keyMismatch(header.alg, authority.publicKey);
    if (mismatch !== undefined) throw new JwtSvidError('ERR_JWT_SVID_ALG_KEY_MISMATCH', `${mismatch} (key ${quote(header.kid)})`);
    if (!verifySignature(header.alg, authority.publicKey, data, signature)) {
      throw new JwtSvidError('ERR_JWT_SVID_BAD_SIGNATURE', 'unable to validate JWT signature');
    }
    return;
  }
  const candidates = [];
  for (const authority of bundle.jwtAuthorities().values()) {
    if (keyMismatch(header.alg, authority.publicKey) === undefined) candidates.push(authority.publicKey);
  }
  if (candidates.length === 0) {
    throw new JwtSvidError('ERR_JWT_SVID_NO_MATCHING_KEY', `token has no key ID and trust domain ${quote(id.trustDomain.name)} has no JWT authority for ${header.alg.name}`);
  }
  if (candidates.length > JWT_SVID_MAX_KEYS_TRIED_WITHOUT_KID) {
    throw new JwtSvidError('ERR_JWT_SVID_NO_MATCHING_KEY', `token has no key ID and ${candidates.length} JWT authorities could match; a key ID is required above ${JWT_SVID_MAX_KEYS_TRIED_WITHOUT_KID}`);
  }
  for (const key of candidates) {
    if (verifySignature(header.alg, key, data, signature)) return;
  }
  throw new JwtSvidError('ERR_JWT_SVID_BAD_SIGNATURE', 'unable to validate JWT signature');
}

function bundleFor(source: JwtBundleSource, id: SpiffeId): Bundle {
  let bundle: Bundle | undefined;
  try {
    bundle = source.getJwtBundleForTrustDomain(id.trustDomain);
  } catch (cause) {
    // A live source may be closed or not yet updated: still a refusal, with the reason kept.
    throw new JwtSvidError('ERR_JWT_SVID_NO_BUNDLE', `no JWT bundle available for trust domain ${quote(id.trustDomain.name)}`, { cause });
  }
  // A source that hands back another trust domain's bundle must not widen trust.
  if (bundle == null || bundle.trustDomain.name !== id.trustDomain.name) {
    throw new JwtSvidError('ERR_JWT_SVID_NO_BUNDLE', `no JWT bundle found for trust domain ${quote(id.trustDomain.name)}`);
  }
  return bundle;
}
