/**
 * The DER SubjectPublicKeyInfo of a public key, fast. On Node 20 (OpenSSL 3)
 * `key.export({ type: 'spki', format: 'der' })` costs a few hundred µs (it
 * goes through OpenSSL's generic encoders), more than a P-256 signature; the
 * JWK export is ~10× cheaper, so the SPKI is rebuilt from the JWK with our
 * DER writer, and remembered per KeyObject.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { bitString, sequence, unsignedInteger } from './der-writer.js';
import { keyIdentifier } from './x509-profile.js';

const EC_P256_PREFIX = Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex');
const EC_P384_PREFIX = Buffer.from('3076301006072a8648ce3d020106052b81040022036200', 'hex');
const RSA_ALGORITHM = Buffer.from('300d06092a864886f70d0101010500', 'hex');
const UNCOMPRESSED = Buffer.from([4]);

export interface PublicKeyInfo {
  /** DER SubjectPublicKeyInfo. */
  readonly spki: Buffer;
  /** SHA-1 of the subjectPublicKey bits: the SubjectKeyIdentifier. */
  readonly keyId: Buffer;
}

const cache = new WeakMap<KeyObject, PublicKeyInfo>();

/** SPKI DER (and key identifier) of an EC P-256/P-384 or RSA public key (other keys: Node's export). */
export function publicKeyInfo(publicKey: KeyObject): PublicKeyInfo {
  let info = cache.get(publicKey);
  if (info === undefined) {
    const spki = buildSpki(publicKey);
    info = { spki, keyId: keyIdentifier(spki) };
    cache.set(publicKey, info);
  }
  return info;
}

export const spkiOf = (publicKey: KeyObject): Buffer => publicKeyInfo(publicKey).spki;

function buildSpki(publicKey: KeyObject): Buffer {
  const jwk = publicKey.export({ format: 'jwk' });
  if (jwk.kty === 'EC' && typeof jwk.x === 'string' && typeof jwk.y === 'string') {
    const prefix = jwk.crv === 'P-256' ? EC_P256_PREFIX : jwk.crv === 'P-384' ? EC_P384_PREFIX : undefined;
    const size = jwk.crv === 'P-256' ? 32 : 48;
    const x = Buffer.from(jwk.x, 'base64url');
    const y = Buffer.from(jwk.y, 'base64url');
    if (prefix !== undefined && x.length === size && y.length === size) return Buffer.concat([prefix, UNCOMPRESSED, x, y]);
  } else if (jwk.kty === 'RSA' && typeof jwk.n === 'string' && typeof jwk.e === 'string') {
    const rsaKey = sequence(unsignedInteger(Buffer.from(jwk.n, 'base64url')), unsignedInteger(Buffer.from(jwk.e, 'base64url')));
    return sequence(RSA_ALGORITHM, bitString(rsaKey));
  }
  return publicKey.export({ type: 'spki', format: 'der' });
}

/**
 * A KeyObject from DER SPKI bytes, fast. On Node 20 (OpenSSL 3) importing DER
 * costs ~2.4× more than importing the same EC key as a JWK, and a CA reads one
 * key per CSR, so EC P-256/P-384 keys go through the JWK path; the SPKI bytes
 * are remembered for the key, so minting does not rebuild them. Other keys
 * use Node's DER import. Throws like `createPublicKey` on bad input.
 */
export function importSpki(spki: Buffer): KeyObject {
  for (const [prefix, crv, size] of [[EC_P256_PREFIX, 'P-256', 32], [EC_P384_PREFIX, 'P-384', 48]] as const) {
    if (spki.length === prefix.length + 1 + 2 * size && spki.subarray(0, prefix.length).equals(prefix) && spki[prefix.length] === 4) {
      const point = spki.subarray(prefix.length + 1);
      const key = createPublicKey({
        key: { kty: 'EC', crv, x: point.subarray(0, size).toString('base64url'), y: point.subarray(size).toString('base64url') },
        format: 'jwk',
      });
      const copy = Buffer.from(spki);
      cache.set(key, { spki: copy, keyId: keyIdentifier(copy) });
      return key;
    }
  }
  return createPublicKey({ key: spki, format: 'der', type: 'spki' });
}
