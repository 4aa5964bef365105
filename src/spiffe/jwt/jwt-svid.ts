/**
 * A JWT-SVID (JWT-SVID.md): a SPIFFE identity carried in a signed JWT.
 * `parseAndValidate` is the only way to trust one; `parseInsecure` is for a
 * workload reading its own token from the Workload API.
 *
 * The token is a bearer secret: it is kept in a private field, returned only
 * by `marshal()`, and left out of `util.inspect`, `JSON.stringify` and errors.
 */
import type { JwtBundleSource } from '../sources.js';
import type { SpiffeId } from '../spiffe-id.js';
import { checkClaims, readSubject } from './claims.js';
import { splitCompact } from './compact.js';
import { decodeBase64Url } from './base64url.js';
import { parseHeader } from './header.js';
import { decodeJsonObject } from './json-segment.js';
import { JwtSvidError } from './jwt-svid-error.js';
import { verifyWithTrustBundle } from './key-selection.js';
import { checkExpectedAudience, resolveTime, type JwtSvidValidationOptions } from './validation-options.js';

/** Audiences a verifier accepts: one, or a non-empty list of which the token must name at least one. */
export type ExpectedAudience = string | readonly string[];

const inspectSymbol = Symbol.for('nodejs.util.inspect.custom');

export class JwtSvid {
  /** The SPIFFE ID from `sub`. */
  readonly id: SpiffeId;
  /** Every audience the token names (`aud`, as an array). */
  readonly audience: readonly string[];
  /** Every claim, deeply frozen. */
  readonly claims: Readonly<Record<string, unknown>>;
  /** The Workload API hint, when one was given. */
  readonly hint: string | undefined;
  readonly #token: string;
  readonly #expiresAtMs: number;

  private constructor(token: string, id: SpiffeId, audience: readonly string[], exp: number, claims: Record<string, unknown>, hint: string | undefined) {
    this.#token = token;
    this.id = id;
    this.audience = Object.freeze(audience.slice());
    this.#expiresAtMs = exp * 1000;
    this.claims = deepFreeze(claims);
    this.hint = hint;
  }

  /**
   * Parses a JWT-SVID and checks everything: header rules, the signature with
   * a key from the bundle of the subject's trust domain, and the claims
   * against `audience` and the time. Throws `JwtSvidError`; bad arguments
   * (an empty audience list, a leeway over 300 s) throw TypeError/RangeError.
   */
  static parseAndValidate(token: string, bundleSource: JwtBundleSource, audience: ExpectedAudience, options?: JwtSvidValidationOptions): JwtSvid {
    const expected = checkExpectedAudience(audience);
    const time = resolveTime(options);
    if (bundleSource == null || typeof bundleSource.getJwtBundleForTrustDomain !== 'function') {
      throw new TypeError('bundleSource must implement getJwtBundleForTrustDomain(trustDomain)');
    }
    const parts = splitCompact(token);
    const header = parseHeader(parts.header);
    const signature = readSignature(parts.signature);
    const claims = decodeJsonObject(parts.payload, 'payload');
    const id = readSubject(claims);
    if (header.kid === undefined && options?.requireKeyId === true) throw new JwtSvidError('ERR_JWT_SVID_MISSING_KEY_ID', 'token header missing key id');
    verifyWithTrustBundle(bundleSource, id, header, parts.signingInput, signature);
    const checked = checkClaims(claims, expected, time, options?.singleAudience === true);
    return new JwtSvid(token, id, checked.audience, checked.exp, claims, options?.hint);
  }

  /**
   * Parses a JWT-SVID WITHOUT checking its signature: only for a token this
   * workload received from its own Workload API, never for one from a peer.
   * Everything else is still enforced — the header rules (so `alg: none`, HS*,
   * `jku`, `crit` are refused here too: a token we could not verify later is
   * not worth holding), a well-formed signature segment, and every claim
   * check, `aud` and `exp` included.
   */
  static parseInsecure(token: string, audience: ExpectedAudience, options?: JwtSvidValidationOptions): JwtSvid {
    const expected = checkExpectedAudience(audience);
    const time = resolveTime(options);
    const parts = splitCompact(token);
    parseHeader(parts.header);
    readSignature(parts.signature);
    const claims = decodeJsonObject(parts.payload, 'payload');
    const id = readSubject(claims);
    const checked = checkClaims(claims, expected, time, options?.singleAudience === true);
    return new JwtSvid(token, id, checked.audience, checked.exp, claims, options?.hint);
  }

  /** When the token expires (`exp`). */
  get expiresAt(): Date {
    return new Date(this.#expiresAtMs);
  }

  /** The token itself, for an `Authorization: Bearer` header. Handle as a secret. */
  marshal(): string {
    return this.#token;
  }

  /** Everything but the token. */
  toJSON(): Record<string, unknown> {
    const json: Record<string, unknown> = { id: this.id.toString(), audience: this.audience, expiresAt: this.expiresAt.toISOString(), claims: this.claims };
    if (this.hint !== undefined) json.hint = this.hint;
    return json;
  }

  toString(): string {
    return `JwtSvid(${this.id.toString()})`;
  }

  [inspectSymbol](): string {
    const hint = this.hint === undefined ? '' : `, hint: ${JSON.stringify(this.hint)}`;
    return `JwtSvid { id: '${this.id.toString()}', audience: ${JSON.stringify(this.audience)}, expiresAt: ${this.expiresAt.toISOString()}${hint}, token: [redacted] }`;
  }
}

/** An empty signature (as `alg: none` tokens carry) is malformed for every allowed algorithm. */
function readSignature(segment: string): Buffer {
  if (segment.length === 0) throw new JwtSvidError('ERR_JWT_SVID_MALFORMED', 'token has an empty signature');
  return decodeBase64Url(segment);
}

/** Iterative, so a deeply nested claim cannot overflow the stack. */
function deepFreeze<T extends object>(root: T): T {
  const stack: object[] = [root];
  while (stack.length > 0) {
    const value = stack.pop()!;
    Object.freeze(value);
    for (const key of Object.keys(value)) {
      const child = (value as Record<string, unknown>)[key];
      if (typeof child === 'object' && child !== null && !Object.isFrozen(child)) stack.push(child);
    }
  }
  return root;
}
