/**
 * Public JWKs allowed as trust anchors: EC P-256/P-384/P-521 and RSA ≥ 2048
 * bits (DESIGN.md). Imported once into a KeyObject that verifiers reuse.
 */
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';

const EC_CURVES = new Set(['P-256', 'P-384', 'P-521']);
export const MIN_RSA_BITS = 2048;

/** Imports a public JWK; returns a reason string instead when it is not acceptable. */
export function importPublicJwk(jwk: Record<string, unknown>): KeyObject | string {
  if (jwk.kty === 'EC') {
    if (typeof jwk.crv !== 'string' || !EC_CURVES.has(jwk.crv)) return `unsupported EC curve ${JSON.stringify(jwk.crv)}`;
    if (typeof jwk.x !== 'string' || typeof jwk.y !== 'string') return 'EC key needs "x" and "y"';
  } else if (jwk.kty === 'RSA') {
    if (typeof jwk.n !== 'string' || typeof jwk.e !== 'string') return 'RSA key needs "n" and "e"';
  } else {
    return `unsupported key type ${JSON.stringify(jwk.kty)}`;
  }
  if ('d' in jwk || 'p' in jwk || 'q' in jwk) return 'a bundle must not hold private key material';
  let key: KeyObject;
  try {
    key = createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, n: jwk.n, e: jwk.e } as JsonWebKey, format: 'jwk' });
  } catch {
    return 'key parameters do not form a valid public key';
  }
  const bits = key.asymmetricKeyDetails?.modulusLength;
  if (jwk.kty === 'RSA' && (bits === undefined || bits < MIN_RSA_BITS)) return `RSA key of ${bits} bits; at least ${MIN_RSA_BITS} required`;
  return key;
}

/** The public JWK of a key, with only the key parameters (no `d`, ever). */
export function publicJwkOf(key: KeyObject): Record<string, string> {
  const jwk = key.export({ format: 'jwk' }) as Record<string, string>;
  if (jwk.kty === 'EC') return { kty: 'EC', crv: jwk.crv!, x: jwk.x!, y: jwk.y! };
  if (jwk.kty === 'RSA') return { kty: 'RSA', n: jwk.n!, e: jwk.e! };
  throw new TypeError(`unsupported key type ${jwk.kty}`);
}

export function sameJwkParams(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  return a.kty === b.kty && a.crv === b.crv && a.x === b.x && a.y === b.y && a.n === b.n && a.e === b.e;
}
