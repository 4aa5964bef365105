export { X509Svid, type X509SvidOptions } from './x509-svid.js';
export { verifyX509Svid, MAX_PATH_LENGTH, MAX_CANDIDATE_ATTEMPTS, type VerifyX509SvidOptions, type VerifiedX509Svid } from './verify.js';
export { X509SvidError, type X509SvidErrorCode } from './x509-svid-error.js';
export { ParsedCertificate, splitDerCertificates, MAX_CERTIFICATE_BYTES } from './certificate.js';
export { KEY_USAGE, type CertificateExtensions, type BasicConstraints, type NameConstraints, type NameSubtree } from './extensions.js';
export type { PublicKeyKind } from './public-key-info.js';
export { MAX_PRESENTED_CERTIFICATES, type CertificateChainInput } from './chain-input.js';
