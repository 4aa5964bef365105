/**
 * A fixed SVID with fixed bundles, for tools and tests; the live
 * Workload-API-backed X509Source implements the same interfaces.
 */
import { Bundle } from '../spiffe/bundle.js';
import { BundleSet } from '../spiffe/bundle-set.js';
import type { X509BundleSource, X509SvidSource } from '../spiffe/sources.js';
import type { TrustDomain } from '../spiffe/trust-domain.js';
import type { X509Svid } from '../spiffe/x509/x509-svid.js';

export class StaticX509Source implements X509SvidSource, X509BundleSource {
  readonly #svid: X509Svid;
  readonly #bundles: X509BundleSource;

  constructor(svid: X509Svid, bundles: Bundle | BundleSet | X509BundleSource) {
    this.#svid = svid;
    this.#bundles = bundles;
  }

  getX509Svid(): X509Svid {
    return this.#svid;
  }

  getX509BundleForTrustDomain(trustDomain: TrustDomain): Bundle | undefined {
    return this.#bundles.getX509BundleForTrustDomain(trustDomain);
  }
}
