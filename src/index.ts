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

// SDK: live SPIFFE sources, mTLS with SPIFFE authorization, JWT-SVID auth, integrations
export { X509Source, type X509SourceOptions } from './workload/x509-source.js';
export { JwtSource } from './workload/jwt-source.js';
export { BundleSource, defaultBundleSource } from './workload/bundle-source.js';
export { FileX509Source, type FileX509SourceOptions } from './workload/file-source.js';
export type { LiveSourceOptions } from './workload/live-source.js';
export { WorkloadApiClient, workloadApiDefinition, SECURITY_HEADER, type WorkloadApiClientOptions, type Watcher, type Watch, type BackoffOptions } from './workload/workload-api-client.js';
export type { X509Context } from './workload/workload-response.js';
export { parseWorkloadEndpoint, resolveWorkloadEndpoint, SPIFFE_ENDPOINT_SOCKET, type WorkloadEndpoint } from './workload/endpoint.js';
export { tlsServerOptions, tlsClientOptions, MTLS_SECURE_OPTIONS, type MtlsSource, type MtlsTlsOptions } from './workload/tls-options.js';
export { createMtlsServer, protectTlsServer, peerSpiffeIdOf, type MtlsServerOptions, type MtlsRequestHandler, type MtlsHttp2RequestHandler } from './workload/mtls-server.js';
export { MtlsAgent, type MtlsAgentOptions } from './workload/mtls-agent.js';
export { StaticX509Source } from './workload/static-source.js';
export { verifyTlsPeer, verifyPeerCertificate, PeerVerificationError } from './workload/verify-peer.js';
export { JwtBearer, JtiReplayCache, authenticateJwtSvid, certificateThumbprint, type JwtSvidAuthOptions, type JwtSvidFetcher } from './workload/jwt-auth.js';
export { requireSpiffeId, requireJwtSvid, meshwardFastify, type MeshwardMiddleware, type MeshwardFastifyOptions } from './workload/http-middleware.js';
export { grpcServerCredentials, grpcChannelCredentials, grpcPeerSpiffeId, SPIFFE_ID_METADATA_KEY } from './workload/grpc.js';
export { WorkloadError, HttpAuthError, type WorkloadErrorCode } from './workload/errors.js';
export type { WorkloadLogger } from './workload/logger.js';
// The policy loader already exports a `PolicySource` type ({ file, text }); the live feed is named for what it is.
export { PolicySource as DistributedPolicySource, watchPolicies } from './workload/policy-source.js';
