import { MeshwardError } from '../../errors.js';

export type X509SvidErrorCode =
  | 'ERR_X509_SVID_MALFORMED'
  | 'ERR_X509_SVID_EMPTY_CHAIN'
  | 'ERR_X509_SVID_CHAIN_TOO_LONG'
  | 'ERR_X509_SVID_UNKNOWN_CRITICAL_EXTENSION'
  | 'ERR_X509_SVID_NO_URI_SAN'
  | 'ERR_X509_SVID_MULTIPLE_URI_SANS'
  | 'ERR_X509_SVID_BAD_ID'
  | 'ERR_X509_SVID_ID_WITHOUT_PATH'
  | 'ERR_X509_SVID_LEAF_IS_CA'
  | 'ERR_X509_SVID_LEAF_KEY_CERT_SIGN'
  | 'ERR_X509_SVID_LEAF_CRL_SIGN'
  | 'ERR_X509_SVID_LEAF_NO_KEY_USAGE'
  | 'ERR_X509_SVID_LEAF_NO_DIGITAL_SIGNATURE'
  | 'ERR_X509_SVID_LEAF_EXT_KEY_USAGE'
  | 'ERR_X509_SVID_SIGNER_NOT_CA'
  | 'ERR_X509_SVID_SIGNER_NO_KEY_CERT_SIGN'
  | 'ERR_X509_SVID_PATH_LEN_EXCEEDED'
  | 'ERR_X509_SVID_NAME_CONSTRAINTS'
  | 'ERR_X509_SVID_EXPIRED'
  | 'ERR_X509_SVID_NOT_YET_VALID'
  | 'ERR_X509_SVID_NO_BUNDLE'
  | 'ERR_X509_SVID_UNTRUSTED'
  | 'ERR_X509_SVID_BAD_SIGNATURE'
  | 'ERR_X509_SVID_UNSUPPORTED_ALGORITHM'
  | 'ERR_X509_SVID_UNSUPPORTED_KEY'
  | 'ERR_X509_SVID_BAD_PRIVATE_KEY'
  | 'ERR_X509_SVID_KEY_MISMATCH';

/**
 * An X.509-SVID could not be parsed or verified. Messages follow go-spiffe
 * (`x509svid: …`) and never hold key material.
 */
export class X509SvidError extends MeshwardError {
  declare readonly code: X509SvidErrorCode;

  constructor(code: X509SvidErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, `x509svid: ${message}`, options);
  }
}

/** The parser's one way to fail: every structural problem is `ERR_X509_SVID_MALFORMED`. */
export function malformed(what: string): X509SvidError {
  return new X509SvidError('ERR_X509_SVID_MALFORMED', `malformed certificate: ${what}`);
}
