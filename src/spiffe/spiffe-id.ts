import { SpiffeIdError } from './spiffe-id-error.js';
import { MAX_ID_LENGTH, SCHEME_PREFIX, checkPath, checkTrustDomainChars, requireString } from './id-syntax.js';
import { TrustDomain } from './trust-domain.js';

/**
 * A SPIFFE ID, `spiffe://<trust-domain>[/<path>]`, valid by construction: the
 * only ways to get one are the parsers below. Compared byte for byte.
 */
export class SpiffeId {
  readonly trustDomain: TrustDomain;
  /** The path, `''` or starting with `/`. */
  readonly path: string;
  readonly #text: string;

  private constructor(trustDomain: TrustDomain, path: string, text: string) {
    this.trustDomain = trustDomain;
    this.path = path;
    this.#text = text;
  }

  /** Parses and validates every rule of the SPIFFE ID spec; throws `SpiffeIdError`. */
  static parse(input: string): SpiffeId {
    const s = requireString(input, 'SPIFFE ID');
    if (s.length === 0) throw new SpiffeIdError('ERR_SPIFFE_ID_EMPTY', 'cannot be empty');
    if (!s.startsWith(SCHEME_PREFIX)) {
      throw new SpiffeIdError('ERR_SPIFFE_ID_WRONG_SCHEME', 'scheme is missing or invalid (expected "spiffe://")');
    }
    if (s.length > MAX_ID_LENGTH) {
      throw new SpiffeIdError('ERR_SPIFFE_ID_TOO_LONG', `SPIFFE ID is ${s.length} bytes; at most ${MAX_ID_LENGTH} are allowed`);
    }
    const tdStart = SCHEME_PREFIX.length;
    let tdEnd = s.indexOf('/', tdStart);
    if (tdEnd === -1) tdEnd = s.length;
    checkTrustDomainChars(s, tdStart, tdEnd);
    checkPath(s, tdEnd);
    return new SpiffeId(TrustDomain.fromCheckedName(s.slice(tdStart, tdEnd)), s.slice(tdEnd), s);
  }

  /** Returns the parsed ID, or `null` when the input is not a valid SPIFFE ID. */
  static tryParse(input: unknown): SpiffeId | null {
    if (typeof input !== 'string') return null;
    try {
      return SpiffeId.parse(input);
    } catch {
      return null;
    }
  }

  /** Builds `spiffe://<td><path>`; the path must be `''` or a valid SPIFFE ID path. */
  static fromPath(trustDomain: TrustDomain | string, path: string): SpiffeId {
    const td = typeof trustDomain === 'string' ? TrustDomain.parse(trustDomain) : trustDomain;
    const p = requireString(path, 'path');
    checkPath(p, 0);
    const text = SCHEME_PREFIX + td.name + p;
    if (text.length > MAX_ID_LENGTH) {
      throw new SpiffeIdError('ERR_SPIFFE_ID_TOO_LONG', `SPIFFE ID is ${text.length} bytes; at most ${MAX_ID_LENGTH} are allowed`);
    }
    return new SpiffeId(td, p, text);
  }

  /** Builds a path from segments, each checked on its own (no `/` inside one). */
  static fromSegments(trustDomain: TrustDomain | string, ...segments: string[]): SpiffeId {
    for (const segment of segments) {
      if (typeof segment === 'string' && segment.includes('/')) {
        throw new SpiffeIdError('ERR_SPIFFE_ID_BAD_PATH_CHAR', 'path segment characters are limited to letters, numbers, dots, dashes, and underscores (found "/")');
      }
    }
    return SpiffeId.fromPath(trustDomain, segments.map((seg) => '/' + seg).join(''));
  }

  /** True when this ID belongs to the trust domain. */
  memberOf(trustDomain: TrustDomain): boolean {
    return this.trustDomain.name === trustDomain.name;
  }

  /** True for a trust domain's own ID (no path): never a workload identity. */
  isTrustDomainId(): boolean {
    return this.path.length === 0;
  }

  equals(other: SpiffeId): boolean {
    return other instanceof SpiffeId && other.#text === this.#text;
  }

  toString(): string {
    return this.#text;
  }

  toJSON(): string {
    return this.#text;
  }
}
