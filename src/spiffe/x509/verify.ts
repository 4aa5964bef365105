/**
 * Verifies a peer's X.509-SVID chain, in go-spiffe's order: read the ID from
 * the leaf, check the leaf profile, pick the bundle of the leaf's trust domain
 * (never a union of roots), then build a path from the leaf through presented
 * intermediates to a root of that bundle, checking every link.
 *
 * Extra presented certificates that are on no valid path are ignored, as
 * go-spiffe ignores them (it hands `certs[1:]` to Go's verifier as a pool):
 * peers commonly send their whole upstream chain. They still have to parse.
 */
import type { SpiffeId } from '../spiffe-id.js';
import type { X509BundleSource } from '../sources.js';
import { ParsedCertificate } from './certificate.js';
import { chainToDer, type CertificateChainInput } from './chain-input.js';
import { checkNameConstraints } from './name-constraints.js';
import { verifySignedBy } from './signature-algorithms.js';
import { checkLeaf, checkSigner, idFromLeaf } from './svid-profile.js';
import { trustAnchorsOf, type TrustAnchors } from './trust-anchors.js';
import { X509SvidError } from './x509-svid-error.js';

/** Longest path accepted, leaf and root included. */
export const MAX_PATH_LENGTH = 8;
/** Issuer candidates tried in all, so a crafted pile of look-alike certificates costs bounded work. */
export const MAX_CANDIDATE_ATTEMPTS = 32;

export interface VerifyX509SvidOptions {
  /** The time to check validity at; defaults to now. */
  readonly now?: Date;
}

export interface VerifiedX509Svid {
  readonly id: SpiffeId;
  /** The verified path: leaf first, the bundle's root last. */
  readonly chain: Buffer[];
}

export function verifyX509Svid(chain: CertificateChainInput, bundleSource: X509BundleSource, options: VerifyX509SvidOptions = {}): VerifiedX509Svid {
  const now = options.now === undefined ? Date.now() : options.now.getTime();
  if (Number.isNaN(now)) throw new TypeError('options.now must be a valid Date');
  const ders = chainToDer(chain);
  const leaf = ParsedCertificate.fromDer(ders[0]!);
  const id = idFromLeaf(leaf);
  checkLeaf(leaf);
  const bundle = bundleSource.getX509BundleForTrustDomain(id.trustDomain);
  if (bundle === undefined || bundle.trustDomain.name !== id.trustDomain.name) {
    throw new X509SvidError('ERR_X509_SVID_NO_BUNDLE', `could not get X509 bundle: no X.509 bundle found for trust domain: ${JSON.stringify(id.trustDomain.name)}`);
  }
  checkValidity(leaf, now, 'leaf');
  const intermediates = ders.slice(1).map((der) => ParsedCertificate.fromDer(der));
  const search = new PathSearch(trustAnchorsOf(bundle), intermediates, now);
  const path = search.from(leaf);
  if (path === undefined) {
    throw search.firstError ?? new X509SvidError('ERR_X509_SVID_UNTRUSTED', 'could not verify leaf certificate: x509: certificate signed by unknown authority');
  }
  return { id, chain: path.map((c) => c.der) };
}

function checkValidity(cert: ParsedCertificate, now: number, role: string): void {
  if (now > cert.notAfterMs) {
    throw new X509SvidError('ERR_X509_SVID_EXPIRED', `${role} certificate has expired: current time ${iso(now)} is after ${iso(cert.notAfterMs)}`);
  }
  if (now < cert.notBeforeMs) {
    throw new X509SvidError('ERR_X509_SVID_NOT_YET_VALID', `${role} certificate is not yet valid: current time ${iso(now)} is before ${iso(cert.notBeforeMs)}`);
  }
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** Depth-first search for leaf → intermediates* → root, with bounded work. */
class PathSearch {
  firstError: X509SvidError | undefined;
  #attempts = 0;

  constructor(
    private readonly anchors: TrustAnchors,
    private readonly intermediates: readonly ParsedCertificate[],
    private readonly now: number,
  ) {}

  from(leaf: ParsedCertificate): ParsedCertificate[] | undefined {
    return this.#extend([leaf]);
  }

  #extend(path: ParsedCertificate[]): ParsedCertificate[] | undefined {
    const child = path[path.length - 1]!;
    // Roots come only from the bundle; a presented self-signed "root" is just an intermediate candidate that never ends a path.
    for (const root of this.anchors.issuersOf(child.issuer)) {
      if (this.#tryLink(path, child, root, 'root')) return [...path, root];
    }
    if (path.length + 1 >= MAX_PATH_LENGTH) {
      if (this.intermediates.some((c) => c.subject.equals(child.issuer))) {
        this.firstError ??= new X509SvidError('ERR_X509_SVID_CHAIN_TOO_LONG', `could not verify leaf certificate: no path of at most ${MAX_PATH_LENGTH} certificates reaches a root`);
      }
      return undefined;
    }
    for (const candidate of this.intermediates) {
      // A certificate appears at most once in a path, however often it was presented.
      if (!candidate.subject.equals(child.issuer) || path.some((c) => c.der.equals(candidate.der))) continue;
      if (!this.#tryLink(path, child, candidate, 'intermediate')) continue;
      const found = this.#extend([...path, candidate]);
      if (found !== undefined) return found;
    }
    return undefined;
  }

  /** True when `issuer` may sign for `child` at this place in the path; remembers why not. */
  #tryLink(path: readonly ParsedCertificate[], child: ParsedCertificate, issuer: ParsedCertificate, role: string): boolean {
    if (++this.#attempts > MAX_CANDIDATE_ATTEMPTS) {
      this.firstError ??= new X509SvidError('ERR_X509_SVID_UNTRUSTED', 'could not verify leaf certificate: too many candidate issuers');
      return false;
    }
    try {
      checkSigner(issuer);
      checkValidity(issuer, this.now, role);
      // pathLenConstraint counts the intermediates below this CA (the leaf is path[0]).
      const pathLen = issuer.extensions.basicConstraints?.pathLen;
      if (pathLen !== undefined && path.length - 1 > pathLen) {
        throw new X509SvidError('ERR_X509_SVID_PATH_LEN_EXCEEDED', `${role} certificate allows ${pathLen} intermediates below it; the path has ${path.length - 1}`);
      }
      const constraints = issuer.extensions.nameConstraints;
      if (constraints !== undefined) for (const below of path) checkNameConstraints(constraints, below);
      verifySignedBy(child, issuer);
      return true;
    } catch (err) {
      if (!(err instanceof X509SvidError)) throw err;
      this.firstError ??= err;
      return false;
    }
  }
}
