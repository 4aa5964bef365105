/**
 * One-method source interfaces, as in go-spiffe. Static values (a Bundle, a
 * BundleSet, an X509Svid) implement them, and so do the live sources fed by
 * the Workload API, so verifiers never care where trust material comes from.
 * Getters are synchronous: live sources keep their latest state in memory,
 * and verification runs inside TLS callbacks.
 */
import type { Bundle } from './bundle.js';
import type { TrustDomain } from './trust-domain.js';
import type { X509Svid } from './x509/x509-svid.js';

export interface X509BundleSource {
  /** The bundle whose X.509 authorities vouch for `trustDomain`, or undefined when none is trusted. */
  getX509BundleForTrustDomain(trustDomain: TrustDomain): Bundle | undefined;
}

export interface JwtBundleSource {
  /** The bundle whose JWT authorities vouch for `trustDomain`, or undefined when none is trusted. */
  getJwtBundleForTrustDomain(trustDomain: TrustDomain): Bundle | undefined;
}

export interface X509SvidSource {
  /** The current default X.509-SVID. */
  getX509Svid(): X509Svid;
}
