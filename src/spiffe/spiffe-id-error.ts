import { MeshwardError } from '../errors.js';

export type SpiffeIdErrorCode =
  | 'ERR_SPIFFE_ID_NOT_A_STRING'
  | 'ERR_SPIFFE_ID_EMPTY'
  | 'ERR_SPIFFE_ID_WRONG_SCHEME'
  | 'ERR_SPIFFE_ID_MISSING_TRUST_DOMAIN'
  | 'ERR_SPIFFE_ID_BAD_TRUST_DOMAIN_CHAR'
  | 'ERR_SPIFFE_ID_TRUST_DOMAIN_TOO_LONG'
  | 'ERR_SPIFFE_ID_TOO_LONG'
  | 'ERR_SPIFFE_ID_NO_LEADING_SLASH'
  | 'ERR_SPIFFE_ID_EMPTY_SEGMENT'
  | 'ERR_SPIFFE_ID_DOT_SEGMENT'
  | 'ERR_SPIFFE_ID_TRAILING_SLASH'
  | 'ERR_SPIFFE_ID_BAD_PATH_CHAR';

/** A SPIFFE ID or trust domain name broke a rule of the SPIFFE ID spec. */
export class SpiffeIdError extends MeshwardError {
  declare readonly code: SpiffeIdErrorCode;

  constructor(code: SpiffeIdErrorCode, message: string) {
    super(code, `spiffeid: ${message}`);
  }
}
