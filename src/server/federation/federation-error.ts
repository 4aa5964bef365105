import { MeshwardError } from '../../errors.js';

export type FederationErrorCode =
  | 'ERR_FEDERATION_CONFIG'
  | 'ERR_FEDERATION_FETCH'
  | 'ERR_FEDERATION_HTTP_STATUS'
  | 'ERR_FEDERATION_REDIRECT'
  | 'ERR_FEDERATION_TOO_LARGE'
  | 'ERR_FEDERATION_BAD_BUNDLE'
  | 'ERR_FEDERATION_NO_TRUST'
  | 'ERR_FEDERATION_PEER_IDENTITY'
  | 'ERR_FEDERATION_SERVING_CERT';

/** A federation problem: a bundle endpoint that could not be served, or a foreign bundle that was not accepted. */
export class FederationError extends MeshwardError {
  declare readonly code: FederationErrorCode;

  constructor(code: FederationErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, `federation: ${message}`, options);
  }
}
