import { MeshwardError } from '../errors.js';

/** Every code a guard refuses with, and the HTTP status the proxy answers with. */
export const GUARD_STATUS = {
  ERR_GUARD_RATE_LIMITED: 429,
  ERR_GUARD_RATE_LIMIT_UNAVAILABLE: 503,
  ERR_GUARD_BULKHEAD_FULL: 503,
  ERR_GUARD_CONNECTION_LIMIT: 503,
  ERR_GUARD_LOCKED_OUT: 429,
  ERR_GUARD_CIRCUIT_OPEN: 503,
  ERR_GUARD_UPSTREAM_TIMEOUT: 504,
  ERR_GUARD_BAD_REQUEST: 400,
  ERR_GUARD_NOT_IMPLEMENTED: 501,
  ERR_GUARD_HEADERS_TOO_LARGE: 431,
  ERR_GUARD_BODY_TOO_LARGE: 413,
  ERR_GUARD_UNSUPPORTED_MEDIA_TYPE: 415,
  ERR_GUARD_INVALID_INPUT: 400,
} as const;

export type GuardErrorCode = keyof typeof GUARD_STATUS;

/**
 * A guard refused a request. `status` is what the proxy answers; `retryAfterSeconds`
 * (when set) goes into `retry-after`. Messages are short and constant plus quoted
 * data; they never echo large client values.
 */
export class GuardError extends MeshwardError {
  declare readonly code: GuardErrorCode;
  readonly status: number;
  readonly retryAfterSeconds: number | undefined;
  /** Machine-readable detail (for example the JSON pointer of a failed schema check). */
  readonly detail: string | undefined;

  constructor(code: GuardErrorCode, message: string, options: { retryAfterSeconds?: number; detail?: string; cause?: unknown } = {}) {
    super(code, `guard: ${message}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.status = GUARD_STATUS[code];
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.detail = options.detail;
  }
}

export function isGuardError(value: unknown): value is GuardError {
  return value instanceof GuardError;
}
