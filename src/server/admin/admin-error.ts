import { MeshwardError } from '../../errors.js';

export type AdminErrorCode =
  | 'ERR_ADMIN_INVALID_FIELD'
  | 'ERR_ADMIN_UNKNOWN_FIELD'
  | 'ERR_ADMIN_MISSING_FIELD'
  | 'ERR_ADMIN_MALFORMED_REQUEST'
  | 'ERR_ADMIN_BODY_TOO_LARGE'
  | 'ERR_ADMIN_UNAUTHENTICATED'
  | 'ERR_ADMIN_FORBIDDEN'
  | 'ERR_ADMIN_NOT_FOUND'
  | 'ERR_ADMIN_OWN_TRUST_DOMAIN'
  | 'ERR_ADMIN_UNAVAILABLE'
  | 'ERR_ADMIN_INTERNAL';

const STATUS: Readonly<Record<AdminErrorCode, number>> = {
  ERR_ADMIN_INVALID_FIELD: 400,
  ERR_ADMIN_UNKNOWN_FIELD: 400,
  ERR_ADMIN_MISSING_FIELD: 400,
  ERR_ADMIN_MALFORMED_REQUEST: 400,
  ERR_ADMIN_BODY_TOO_LARGE: 413,
  ERR_ADMIN_UNAUTHENTICATED: 401,
  ERR_ADMIN_FORBIDDEN: 403,
  ERR_ADMIN_NOT_FOUND: 404,
  ERR_ADMIN_OWN_TRUST_DOMAIN: 400,
  ERR_ADMIN_UNAVAILABLE: 503,
  ERR_ADMIN_INTERNAL: 500,
};

/**
 * An admin API request was refused. `field` names the offending input by its
 * path in the request (`entries[3].selectors[1]`, `spiffeId`, `format`).
 * Messages quote the field, never a secret (tokens, keys, CSRs are not echoed).
 */
export class AdminError extends MeshwardError {
  declare readonly code: AdminErrorCode;
  readonly field: string | undefined;
  readonly status: number;

  constructor(code: AdminErrorCode, message: string, field?: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.field = field;
    this.status = STATUS[code];
  }
}

export const invalid = (field: string, message: string): AdminError =>
  field === '' ? new AdminError('ERR_ADMIN_INVALID_FIELD', message) : new AdminError('ERR_ADMIN_INVALID_FIELD', `${field}: ${message}`, field);
