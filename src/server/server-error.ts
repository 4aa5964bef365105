/**
 * Errors of the server runtime. `ServerError` carries an HTTP status and,
 * for bad input, the field at fault, so every route answers with the shape
 * of docs/server-api.md: `{"error": {"code", "message", "field"?}}`.
 */
import { MeshwardError } from '../errors.js';

export type ServerErrorCode =
  | 'ERR_SERVER_BAD_REQUEST'
  | 'ERR_SERVER_UNAUTHENTICATED'
  | 'ERR_SERVER_PERMISSION_DENIED'
  | 'ERR_SERVER_AGENT_BANNED'
  | 'ERR_SERVER_AGENT_UNKNOWN'
  | 'ERR_SERVER_SVID_REPLACED'
  | 'ERR_SERVER_REVOKED'
  | 'ERR_SERVER_NOT_FOUND'
  | 'ERR_SERVER_JOIN_TOKEN_INVALID'
  | 'ERR_SERVER_RATE_LIMITED'
  | 'ERR_SERVER_TOO_MANY_WATCHERS'
  | 'ERR_SERVER_DATASTORE_UNAVAILABLE'
  | 'ERR_SERVER_CA'
  | 'ERR_SERVER_TRUST_DOMAIN_MISMATCH'
  | 'ERR_SERVER_DATA_DIR'
  | 'ERR_SERVER_LISTEN'
  | 'ERR_SERVER_INTERNAL';

export class ServerError extends MeshwardError {
  declare readonly code: ServerErrorCode;
  /** HTTP status this error answers with. */
  readonly status: number;
  /** The request field at fault (`spiffeId`, `requests[2].csr`), for 400s. */
  readonly field: string | undefined;
  /** Seconds, for 429 and 503. */
  readonly retryAfter: number | undefined;

  constructor(code: ServerErrorCode, status: number, message: string, options?: { field?: string; retryAfter?: number; cause?: unknown }) {
    super(code, `server: ${message}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.status = status;
    this.field = options?.field;
    this.retryAfter = options?.retryAfter;
  }
}

export const badRequest = (field: string, message: string): ServerError => new ServerError('ERR_SERVER_BAD_REQUEST', 400, message, { field });
export const unauthenticated = (message: string): ServerError => new ServerError('ERR_SERVER_UNAUTHENTICATED', 401, message);
export const denied = (message: string, code: ServerErrorCode = 'ERR_SERVER_PERMISSION_DENIED'): ServerError => new ServerError(code, 403, message);

/** Invalid configuration: the command exits 2; `key` names the configuration key at fault. */
export class ConfigError extends MeshwardError {
  readonly key: string;

  constructor(code: 'ERR_CONFIG_INVALID' | 'ERR_CONFIG_UNKNOWN_KEY' | 'ERR_CONFIG_FILE', key: string, message: string) {
    super(code, `config: ${key === '' ? '' : `${key}: `}${message}`);
    this.key = key;
  }
}
