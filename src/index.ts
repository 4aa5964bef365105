/**
 * meshward's public API, re-exported by name. Names follow go-spiffe v2 in
 * TypeScript idiom (see DESIGN.md); they are relied upon outside the project.
 */
export { MeshwardError } from './errors.js';

// SPIFFE model
export { SpiffeId } from './spiffe/spiffe-id.js';
export { TrustDomain } from './spiffe/trust-domain.js';
export { SpiffeIdError, type SpiffeIdErrorCode } from './spiffe/spiffe-id-error.js';
export { Bundle, MAX_BUNDLE_BYTES, type BundleInit, type JwtAuthority as BundleJwtAuthority } from './spiffe/bundle.js';
export { BundleSet } from './spiffe/bundle-set.js';
export { BundleError, type BundleErrorCode } from './spiffe/bundle-error.js';
export { trustDomainOfAuthorities } from './spiffe/bundle-trust-domain.js';
export type { X509BundleSource, JwtBundleSource, X509SvidSource } from './spiffe/sources.js';
export { authorizeAny, authorizeId, authorizeOneOf, authorizeMemberOf, type Authorizer } from './spiffe/authorizers.js';
export { decodePemBlocks, encodePem, type PemBlock } from './spiffe/pem.js';
export * from './spiffe/x509/index.js';
export * from './spiffe/jwt/index.js';

// Certificate authority
export * from './ca/index.js';

// Authorization policy
export * from './policy/index.js';

// Evidence: audit records and telemetry
export * from './audit/index.js';
export * from './telemetry/index.js';

// Protection: rate limits, bulkheads, lockout, circuit breakers, input validation
export * from './guard/index.js';

// The sidecar proxy, for embedding
export * from './proxy/index.js';
