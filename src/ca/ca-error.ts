import { MeshwardError } from '../errors.js';

export type CaErrorCode =
  | 'ERR_CA_BAD_OPTION'
  | 'ERR_CA_BAD_TTL'
  | 'ERR_CA_BAD_KEY_TYPE'
  | 'ERR_CA_UNSUPPORTED_KEY'
  | 'ERR_CA_ID_WITHOUT_PATH'
  | 'ERR_CA_FOREIGN_TRUST_DOMAIN'
  | 'ERR_CA_BAD_SPIFFE_ID'
  | 'ERR_CA_BAD_DNS_NAME'
  | 'ERR_CA_BAD_AUDIENCE'
  | 'ERR_CA_MALFORMED_CSR'
  | 'ERR_CA_CSR_BAD_SIGNATURE'
  | 'ERR_CA_CSR_UNSUPPORTED_ALGORITHM'
  | 'ERR_CA_NO_ACTIVE_AUTHORITY'
  | 'ERR_CA_EXPIRED'
  | 'ERR_CA_MALFORMED_UPSTREAM'
  | 'ERR_CA_UPSTREAM_KEY_MISMATCH'
  | 'ERR_CA_UPSTREAM_NOT_CA'
  | 'ERR_CA_UPSTREAM_NO_ROOT'
  | 'ERR_CA_UPSTREAM_BAD_CHAIN'
  | 'ERR_CA_UPSTREAM_EXPIRED'
  | 'ERR_CA_ALREADY_INITIALIZED'
  | 'ERR_CA_NOT_INITIALIZED'
  | 'ERR_CA_MALFORMED_STATE'
  | 'ERR_CA_KEY_FILE_PERMISSIONS'
  | 'ERR_CA_MALFORMED_KEY_FILE'
  | 'ERR_CA_KEK_MISMATCH'
  | 'ERR_CA_KEK_REQUIRED'
  | 'ERR_CA_IO';

/**
 * An error of the certificate authority. Messages name what was wrong and what
 * is expected; they never hold key material (only file names and public facts).
 */
export class CaError extends MeshwardError {
  declare readonly code: CaErrorCode;

  constructor(code: CaErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, `ca: ${message}`, options);
  }
}
