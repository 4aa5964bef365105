/**
 * The JWS algorithms a JWT-SVID may use (JWT-SVID.md §2.1), as a table: code
 * below this file is handed a resolved entry and never switches on `alg`.
 * `none`, HS*, EdDSA and everything else are absent, so they cannot be looked up.
 */
import { constants, type KeyObject } from 'node:crypto';
import { MIN_RSA_BITS } from '../jwk.js';

export type JwtSvidAlgorithmName = 'RS256' | 'RS384' | 'RS512' | 'ES256' | 'ES384' | 'ES512' | 'PS256' | 'PS384' | 'PS512';

export interface JwsAlgorithm {
  readonly name: JwtSvidAlgorithmName;
  /** The Node digest name passed to `crypto.verify`. */
  readonly hash: 'sha256' | 'sha384' | 'sha512';
  readonly keyType: 'rsa' | 'ec';
  /** For ES*: the Node name of the only curve allowed (RFC 7518 §3.4). */
  readonly curve?: 'prime256v1' | 'secp384r1' | 'secp521r1';
  /** For ES*: the exact length of an IEEE P1363 (r || s) signature. */
  readonly signatureLength?: number;
  readonly padding?: number;
  readonly saltLength?: number;
}

function rsa(bits: 256 | 384 | 512): JwsAlgorithm {
  return Object.freeze({ name: `RS${bits}`, hash: `sha${bits}`, keyType: 'rsa', padding: constants.RSA_PKCS1_PADDING });
}

function pss(bits: 256 | 384 | 512): JwsAlgorithm {
  // RFC 7518 §3.5: the salt is as long as the hash output.
  return Object.freeze({ name: `PS${bits}`, hash: `sha${bits}`, keyType: 'rsa', padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: bits / 8 });
}

function ecdsa(bits: 256 | 384 | 512, curve: 'prime256v1' | 'secp384r1' | 'secp521r1', coordinateBytes: number): JwsAlgorithm {
  return Object.freeze({ name: `ES${bits}`, hash: `sha${bits}`, keyType: 'ec', curve, signatureLength: 2 * coordinateBytes });
}

const TABLE: ReadonlyMap<string, JwsAlgorithm> = new Map(
  [rsa(256), rsa(384), rsa(512), pss(256), pss(384), pss(512), ecdsa(256, 'prime256v1', 32), ecdsa(384, 'secp384r1', 48), ecdsa(512, 'secp521r1', 66)].map((a) => [a.name, a]),
);

/** The allowed algorithm named by a header's `alg`, or undefined (exact, case-sensitive match). */
export function lookupAlgorithm(alg: unknown): JwsAlgorithm | undefined {
  return typeof alg === 'string' ? TABLE.get(alg) : undefined;
}

export const JWT_SVID_ALGORITHMS: readonly JwtSvidAlgorithmName[] = Object.freeze([...TABLE.keys()] as JwtSvidAlgorithmName[]);

/** What matters about a key for algorithm binding, read once per KeyObject. */
interface KeyShape {
  readonly type: string;
  readonly curve: string | undefined;
  readonly bits: number | undefined;
  readonly isPublic: boolean;
}

const shapes = new WeakMap<KeyObject, KeyShape>();

function shapeOf(key: KeyObject): KeyShape {
  let shape = shapes.get(key);
  if (shape === undefined) {
    const details = key.asymmetricKeyDetails;
    shape = { type: key.asymmetricKeyType ?? 'secret', curve: details?.namedCurve, bits: details?.modulusLength, isPublic: key.type === 'public' };
    shapes.set(key, shape);
  }
  return shape;
}

/**
 * Why `key` may not verify `alg`, or undefined when it may: RS and PS need an
 * RSA public key of at least 2048 bits; each ES alg needs its own curve. A key
 * never gets to verify under an algorithm of another family (RFC 8725 §3.1).
 */
export function keyMismatch(alg: JwsAlgorithm, key: KeyObject): string | undefined {
  const shape = shapeOf(key);
  if (!shape.isPublic) return 'the JWT authority is not a public key';
  if (shape.type !== alg.keyType) return `${alg.name} needs an ${alg.keyType.toUpperCase()} key, the JWT authority is ${shape.type}`;
  if (alg.keyType === 'ec' && shape.curve !== alg.curve) return `${alg.name} needs curve ${alg.curve}, the JWT authority uses ${shape.curve}`;
  if (alg.keyType === 'rsa' && (shape.bits === undefined || shape.bits < MIN_RSA_BITS)) return `RSA JWT authority has ${shape.bits} bits; at least ${MIN_RSA_BITS} required`;
  return undefined;
}
