import { MeshwardError } from '../errors.js';

export type BundleErrorCode =
  | 'ERR_BUNDLE_MALFORMED_JSON'
  | 'ERR_BUNDLE_DUPLICATE_MEMBER'
  | 'ERR_BUNDLE_TOO_LARGE'
  | 'ERR_BUNDLE_MISSING_KEYS'
  | 'ERR_BUNDLE_BAD_MEMBER'
  | 'ERR_BUNDLE_MALFORMED_KEY'
  | 'ERR_BUNDLE_DUPLICATE_KEY'
  | 'ERR_BUNDLE_MALFORMED_PEM'
  | 'ERR_BUNDLE_TRUST_DOMAIN_MISMATCH';

/** A trust bundle (SPIFFE bundle JSON, JWKS or PEM) could not be accepted. */
export class BundleError extends MeshwardError {
  declare readonly code: BundleErrorCode;

  constructor(code: BundleErrorCode, message: string) {
    super(code, `bundle: ${message}`);
  }
}
