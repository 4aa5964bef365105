/** The certificate authority: public API. */
export { CaError, type CaErrorCode } from './ca-error.js';
export { KEY_TYPES, DEFAULT_KEY_TYPE, parseKeyType, type KeyType, type JwtAlgorithm } from './key-type.js';
export {
  CertificateAuthority,
  DEFAULT_CA_TTL_SECONDS,
  DEFAULT_X509_SVID_TTL_SECONDS,
  DEFAULT_JWT_SVID_TTL_SECONDS,
  type CertificateAuthorityOptions,
  type MintX509SvidRequest,
  type MintJwtSvidRequest,
  type X509SvidMint,
} from './certificate-authority.js';
export { X509Authority } from './x509-authority.js';
export { JwtAuthority } from './jwt-authority.js';
export { UpstreamAuthority } from './upstream.js';
export { advanceAuthorities, prepareAt, activateAt, type AuthorityStatus } from './rotation.js';
export { publicKeyFromCsr } from './csr.js';
export { initCaDirectory, loadCaDirectory, type InitCaDirectoryOptions, type LoadCaDirectoryOptions } from './ca-directory.js';
