/**
 * Errors of the SDK. Every one has a stable `code`; messages name what was
 * wrong and never carry a key or a token.
 */
import { MeshwardError } from '../errors.js';

export type WorkloadErrorCode =
  | 'ERR_WORKLOAD_BAD_ADDRESS'
  | 'ERR_WORKLOAD_NO_ADDRESS'
  | 'ERR_WORKLOAD_CLIENT_CLOSED'
  | 'ERR_WORKLOAD_SOURCE_CLOSED'
  | 'ERR_WORKLOAD_NO_IDENTITY'
  | 'ERR_WORKLOAD_NO_BUNDLE'
  | 'ERR_WORKLOAD_RPC'
  | 'ERR_WORKLOAD_INVALID_RESPONSE'
  | 'ERR_WORKLOAD_TIMEOUT'
  | 'ERR_WORKLOAD_FILE_SOURCE'
  | 'ERR_WORKLOAD_JWT_MISSING'
  | 'ERR_WORKLOAD_JWT_MULTIPLE_HEADERS'
  | 'ERR_WORKLOAD_JWT_BAD_SCHEME'
  | 'ERR_WORKLOAD_JWT_INVALID'
  | 'ERR_WORKLOAD_JWT_REPLAYED'
  | 'ERR_WORKLOAD_JWT_NO_JTI'
  | 'ERR_WORKLOAD_JWT_REPLAY_CACHE_FULL'
  | 'ERR_WORKLOAD_JWT_CNF_MISMATCH'
  | 'ERR_WORKLOAD_JWT_UNAUTHORIZED'
  | 'ERR_WORKLOAD_PEER_UNAUTHORIZED';

export class WorkloadError extends MeshwardError {
  declare readonly code: WorkloadErrorCode;
  /** The gRPC status code, for errors that came from a Workload API call. */
  readonly grpcCode: number | undefined;

  constructor(code: WorkloadErrorCode, message: string, options?: { cause?: unknown; grpcCode?: number }) {
    super(code, message, options);
    this.grpcCode = options?.grpcCode;
  }
}

/** A failed HTTP authentication or authorization; `status` is what the helpers answer with. */
export class HttpAuthError extends WorkloadError {
  readonly status: 401 | 403 | 503;

  constructor(code: WorkloadErrorCode, status: 401 | 403 | 503, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.status = status;
  }
}
