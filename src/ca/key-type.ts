/**
 * The key types a CA and its workloads may use (DESIGN.md: ECDSA P-256 by
 * default, P-384 and RSA ≥ 2048 allowed; nothing else), and what each one
 * means for signing: the X.509 signature algorithm and the JWT `alg`.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { CaError } from './ca-error.js';

export type KeyType = 'ec-p256' | 'ec-p384' | 'rsa-2048';

export const KEY_TYPES: readonly KeyType[] = ['ec-p256', 'ec-p384', 'rsa-2048'];
export const DEFAULT_KEY_TYPE: KeyType = 'ec-p256';
export const MIN_RSA_BITS = 2048;
/** Larger RSA keys are accepted from workloads, not absurd ones. */
export const MAX_RSA_BITS = 8192;

export type JwtAlgorithm = 'ES256' | 'ES384' | 'RS256';

export interface SigningAlgorithm {
  /** node:crypto hash name given to `crypto.sign`. */
  readonly hash: 'sha256' | 'sha384';
  /** DER of the X.509 AlgorithmIdentifier (ecdsa-with-SHA256/384, sha256WithRSAEncryption). */
  readonly algorithmIdentifier: Buffer;
  readonly jwtAlg: JwtAlgorithm;
  /** `dsaEncoding` for JWS signatures (ECDSA: raw r||s). */
  readonly jwsDsaEncoding: 'ieee-p1363' | undefined;
}

const ECDSA_SHA256 = Buffer.from('300a06082a8648ce3d040302', 'hex');
const ECDSA_SHA384 = Buffer.from('300a06082a8648ce3d040303', 'hex');
const SHA256_WITH_RSA = Buffer.from('300d06092a864886f70d01010b0500', 'hex');

const ALGORITHMS: Readonly<Record<KeyType, SigningAlgorithm>> = {
  'ec-p256': { hash: 'sha256', algorithmIdentifier: ECDSA_SHA256, jwtAlg: 'ES256', jwsDsaEncoding: 'ieee-p1363' },
  'ec-p384': { hash: 'sha384', algorithmIdentifier: ECDSA_SHA384, jwtAlg: 'ES384', jwsDsaEncoding: 'ieee-p1363' },
  'rsa-2048': { hash: 'sha256', algorithmIdentifier: SHA256_WITH_RSA, jwtAlg: 'RS256', jwsDsaEncoding: undefined },
};

export function isKeyType(value: unknown): value is KeyType {
  return typeof value === 'string' && (KEY_TYPES as readonly string[]).includes(value);
}

export function parseKeyType(value: unknown): KeyType {
  if (value === undefined) return DEFAULT_KEY_TYPE;
  if (!isKeyType(value)) {
    throw new CaError('ERR_CA_BAD_KEY_TYPE', `unsupported key type ${JSON.stringify(value)}; expected one of ${KEY_TYPES.join(', ')}`);
  }
  return value;
}

export function signingAlgorithm(keyType: KeyType): SigningAlgorithm {
  return ALGORITHMS[keyType];
}

export function generateKey(keyType: KeyType): { privateKey: KeyObject; publicKey: KeyObject } {
  switch (keyType) {
    case 'ec-p256':
      return generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    case 'ec-p384':
      return generateKeyPairSync('ec', { namedCurve: 'secp384r1' });
    case 'rsa-2048':
      return generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 0x10001 });
  }
}

/** The family of a key acceptable here, or a reason it is not. */
export type KeyFamily = 'ec' | 'rsa';

/**
 * Classifies a key (public or private) and checks it is one we accept:
 * EC on P-256/P-384, or RSA (PKCS#1, not RSA-PSS-only) of 2048–8192 bits.
 * For a signing key, the result is its `KeyType` (RSA keys sign as rsa-2048's
 * algorithm, sha256WithRSAEncryption / RS256, whatever their size).
 */
export function classifyKey(key: KeyObject, what: string): { family: KeyFamily; keyType: KeyType } {
  const type = key.asymmetricKeyType;
  const details = key.asymmetricKeyDetails ?? {};
  if (type === 'ec') {
    if (details.namedCurve === 'prime256v1') return { family: 'ec', keyType: 'ec-p256' };
    if (details.namedCurve === 'secp384r1') return { family: 'ec', keyType: 'ec-p384' };
    throw new CaError('ERR_CA_UNSUPPORTED_KEY', `${what} is an EC key on curve ${details.namedCurve ?? 'unknown'}; only P-256 and P-384 are accepted`);
  }
  if (type === 'rsa') {
    const bits = details.modulusLength ?? 0;
    if (bits < MIN_RSA_BITS || bits > MAX_RSA_BITS) {
      throw new CaError('ERR_CA_UNSUPPORTED_KEY', `${what} is an RSA key of ${bits} bits; ${MIN_RSA_BITS} to ${MAX_RSA_BITS} bits are accepted`);
    }
    return { family: 'rsa', keyType: 'rsa-2048' };
  }
  throw new CaError('ERR_CA_UNSUPPORTED_KEY', `${what} is a ${type ?? 'non-asymmetric'} key; only ECDSA P-256/P-384 and RSA ≥ ${MIN_RSA_BITS} are accepted`);
}
