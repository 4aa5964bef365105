/** Maps any error a route throws to the contract's status and `{error: {code, message, field?}}` body. */
import { CaError } from '../../ca/ca-error.js';
import { MeshwardError } from '../../errors.js';
import { StoreError } from '../../store/store-error.js';
import { AdminError } from './admin-error.js';

export interface ErrorBody {
  error: { code: string; message: string; field?: string };
}

export interface ErrorResponse {
  status: number;
  body: ErrorBody;
  /** True for a server-side fault (logged, audited as `error`). */
  internal: boolean;
}

const STORE_STATUS: Readonly<Record<string, number>> = {
  ERR_STORE_ALREADY_EXISTS: 409,
  ERR_STORE_NOT_FOUND: 404,
  ERR_STORE_UNAVAILABLE: 503,
  ERR_STORE_INVALID: 400,
  ERR_STORE_MIGRATION: 503,
  ERR_STORE_AGENT_BANNED: 403,
};

/** CA refusals caused by the request, and the request field they concern. */
const CA_FIELD: Readonly<Record<string, string>> = {
  ERR_CA_MALFORMED_CSR: 'csr',
  ERR_CA_CSR_BAD_SIGNATURE: 'csr',
  ERR_CA_CSR_UNSUPPORTED_ALGORITHM: 'csr',
  ERR_CA_UNSUPPORTED_KEY: 'csr',
  ERR_CA_BAD_TTL: 'ttlSeconds',
  ERR_CA_BAD_DNS_NAME: 'dnsNames',
  ERR_CA_BAD_AUDIENCE: 'audience',
  ERR_CA_BAD_SPIFFE_ID: 'spiffeId',
  ERR_CA_FOREIGN_TRUST_DOMAIN: 'spiffeId',
  ERR_CA_ID_WITHOUT_PATH: 'spiffeId',
};

export function errorResponse(err: unknown): ErrorResponse {
  if (err instanceof AdminError) {
    return { status: err.status, body: body(err.code, err.message, err.field), internal: err.status >= 500 };
  }
  if (err instanceof StoreError) {
    const status = STORE_STATUS[err.code] ?? 500;
    return { status, body: body(err.code, err.message), internal: status >= 500 };
  }
  if (err instanceof CaError) {
    const field = CA_FIELD[err.code];
    if (field !== undefined) return { status: 400, body: body(err.code, err.message, field), internal: false };
    if (err.code === 'ERR_CA_EXPIRED' || err.code === 'ERR_CA_NO_ACTIVE_AUTHORITY') return { status: 503, body: body(err.code, err.message), internal: true };
  }
  // fastify's own refusals (malformed JSON, body too large, wrong content type) carry a 4xx statusCode.
  const status = (err as { statusCode?: unknown } | null)?.statusCode;
  if (!(err instanceof MeshwardError) && typeof status === 'number' && status >= 400 && status < 500) {
    const code = status === 413 ? 'ERR_ADMIN_BODY_TOO_LARGE' : 'ERR_ADMIN_MALFORMED_REQUEST';
    return { status, body: body(code, `malformed request: ${(err as Error).message}`), internal: false };
  }
  return { status: 500, body: body('ERR_ADMIN_INTERNAL', 'internal error; see the server log'), internal: true };
}

function body(code: string, message: string, field?: string): ErrorBody {
  return field === undefined ? { error: { code, message } } : { error: { code, message, field } };
}
