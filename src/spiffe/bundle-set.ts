/**
 * Bundles of several trust domains, each kept apart: a peer is verified only
 * against the bundle of its own trust domain, never the union of all roots.
 */
import type { Bundle } from './bundle.js';
import type { JwtBundleSource, X509BundleSource } from './sources.js';
import type { TrustDomain } from './trust-domain.js';

export class BundleSet implements X509BundleSource, JwtBundleSource {
  readonly #bundles = new Map<string, Bundle>();

  constructor(bundles: Iterable<Bundle> = []) {
    for (const bundle of bundles) this.set(bundle);
  }

  /** Adds or replaces the bundle of the bundle's trust domain. */
  set(bundle: Bundle): this {
    this.#bundles.set(bundle.trustDomain.name, bundle);
    return this;
  }

  delete(trustDomain: TrustDomain): boolean {
    return this.#bundles.delete(trustDomain.name);
  }

  get(trustDomain: TrustDomain): Bundle | undefined {
    return this.#bundles.get(trustDomain.name);
  }

  bundles(): Bundle[] {
    return [...this.#bundles.values()];
  }

  getX509BundleForTrustDomain(trustDomain: TrustDomain): Bundle | undefined {
    return this.#bundles.get(trustDomain.name);
  }

  getJwtBundleForTrustDomain(trustDomain: TrustDomain): Bundle | undefined {
    return this.#bundles.get(trustDomain.name);
  }
}
