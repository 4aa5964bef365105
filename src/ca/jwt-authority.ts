/**
 * One JWT signing key of the trust domain and the minting of JWT-SVIDs with
 * it: JWS compact form, header `{ alg, kid, typ: 'JWT' }` encoded once,
 * ECDSA signatures in the raw r||s form JWS wants (`ieee-p1363`).
 */
import { randomBytes, sign, type KeyObject } from 'node:crypto';
import { inspect } from 'node:util';
import { classifyKey, generateKey, signingAlgorithm, type JwtAlgorithm, type KeyType, type SigningAlgorithm } from './key-type.js';
import { floorSeconds, kPrivateKey } from './internal.js';
import type { AuthorityStatus } from './rotation.js';

export interface JwtSvidClaims {
  readonly sub: string;
  readonly aud: readonly string[];
  readonly exp: number;
  readonly iat: number;
}

export class JwtAuthority {
  /** The JWS `kid`: random, 32 characters of base64url. */
  readonly id: string;
  readonly status: AuthorityStatus;
  readonly keyType: KeyType;
  readonly alg: JwtAlgorithm;
  readonly publicKey: KeyObject;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly #privateKey: KeyObject;
  readonly #algorithm: SigningAlgorithm;
  readonly #headerB64: string;

  private constructor(id: string, status: AuthorityStatus, privateKey: KeyObject, publicKey: KeyObject, notBefore: Date, notAfter: Date) {
    this.id = id;
    this.status = status;
    this.keyType = classifyKey(privateKey, 'the JWT key').keyType;
    this.#algorithm = signingAlgorithm(this.keyType);
    this.alg = this.#algorithm.jwtAlg;
    this.publicKey = publicKey;
    this.notBefore = notBefore;
    this.notAfter = notAfter;
    this.#privateKey = privateKey;
    this.#headerB64 = Buffer.from(JSON.stringify({ alg: this.alg, kid: id, typ: 'JWT' })).toString('base64url');
  }

  static create(opts: { keyType: KeyType; ttlSeconds: number; now: Date; status: AuthorityStatus }): JwtAuthority {
    const { privateKey, publicKey } = generateKey(opts.keyType);
    const id = randomBytes(24).toString('base64url');
    return new JwtAuthority(id, opts.status, privateKey, publicKey, floorSeconds(opts.now.getTime()), floorSeconds(opts.now.getTime() + opts.ttlSeconds * 1000));
  }

  static fromStored(id: string, status: AuthorityStatus, privateKey: KeyObject, publicKey: KeyObject, notBefore: Date, notAfter: Date): JwtAuthority {
    return new JwtAuthority(id, status, privateKey, publicKey, notBefore, notAfter);
  }

  withStatus(status: AuthorityStatus): JwtAuthority {
    return new JwtAuthority(this.id, status, this.#privateKey, this.publicKey, this.notBefore, this.notAfter);
  }

  /** Signs already validated claims into a compact JWS. */
  sign(claims: JwtSvidClaims): string {
    const input = this.#headerB64 + '.' + Buffer.from(JSON.stringify({ sub: claims.sub, aud: claims.aud, exp: claims.exp, iat: claims.iat })).toString('base64url');
    const key = this.#algorithm.jwsDsaEncoding === undefined ? this.#privateKey : { key: this.#privateKey, dsaEncoding: this.#algorithm.jwsDsaEncoding };
    return input + '.' + sign(this.#algorithm.hash, Buffer.from(input), key).toString('base64url');
  }

  [kPrivateKey](): KeyObject {
    return this.#privateKey;
  }

  toJSON(): Record<string, unknown> {
    return { id: this.id, status: this.status, keyType: this.keyType, alg: this.alg, notBefore: this.notBefore.toISOString(), notAfter: this.notAfter.toISOString() };
  }

  [inspect.custom](): string {
    return `JwtAuthority ${inspect(this.toJSON())}`;
  }
}
