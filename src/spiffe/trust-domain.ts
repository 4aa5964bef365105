import { SpiffeIdError } from './spiffe-id-error.js';
import { SCHEME_PREFIX, checkTrustDomainChars, requireString } from './id-syntax.js';
import { SpiffeId } from './spiffe-id.js';

/** A SPIFFE trust domain: the authority part of SPIFFE IDs, e.g. `example.org`. */
export class TrustDomain {
  readonly name: string;

  private constructor(name: string) {
    this.name = name;
  }

  /**
   * Parses a trust domain name (`example.org`) or takes it from a SPIFFE ID
   * (`spiffe://example.org` or `spiffe://example.org/path`), as go-spiffe does.
   */
  static parse(input: string): TrustDomain {
    const s = requireString(input, 'trust domain');
    if (s.length === 0) throw new SpiffeIdError('ERR_SPIFFE_ID_MISSING_TRUST_DOMAIN', 'trust domain is missing');
    if (s.includes(':/')) return SpiffeId.parse(s).trustDomain;
    checkTrustDomainChars(s, 0, s.length);
    return new TrustDomain(s);
  }

  /** Builds from a name already checked by the ID parser. Internal. */
  static fromCheckedName(name: string): TrustDomain {
    return new TrustDomain(name);
  }

  /** The trust domain's own SPIFFE ID, `spiffe://<name>` (no path). */
  id(): SpiffeId {
    return SpiffeId.fromPath(this, '');
  }

  /** `spiffe://<name>`: the key of bundle maps in the Workload API. */
  idString(): string {
    return SCHEME_PREFIX + this.name;
  }

  equals(other: TrustDomain): boolean {
    return other instanceof TrustDomain && other.name === this.name;
  }

  toString(): string {
    return this.name;
  }

  toJSON(): string {
    return this.name;
  }
}
