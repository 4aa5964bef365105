/**
 * Any error a runtime route (agent API, health, not-found) throws, as the
 * contract's status and body: `{"error": {"code", "message", "field"?}}`.
 * Server faults answer 500 with a fixed message (details go to the log).
 */
import type { FastifyReply } from 'fastify';
import { CaError } from '../ca/ca-error.js';
import { MeshwardError } from '../errors.js';
import { StoreError } from '../store/store-error.js';
import { ServerError } from './server-error.js';

export interface ErrorReply {
  readonly status: number;
  readonly body: { error: { code: string; message: string; field?: string } };
  readonly retryAfter?: number;
  /** A fault of ours (logged at error level). */
  readonly internal: boolean;
}

const STORE_STATUS: Readonly<Record<string, number>> = {
  ERR_STORE_ALREADY_EXISTS: 409,
  ERR_STORE_NOT_FOUND: 404,
  ERR_STORE_UNAVAILABLE: 503,
  ERR_STORE_INVALID: 400,
  ERR_STORE_MIGRATION: 503,
};

/** CA refusals caused by the request: they concern the CSR (or the audience). */
const CA_BAD_INPUT = new Set(['ERR_CA_MALFORMED_CSR', 'ERR_CA_CSR_BAD_SIGNATURE', 'ERR_CA_CSR_UNSUPPORTED_ALGORITHM', 'ERR_CA_UNSUPPORTED_KEY', 'ERR_CA_BAD_AUDIENCE']);

export function errorReply(err: unknown, csrField = 'csr'): ErrorReply {
  if (err instanceof ServerError) {
    const body = bodyOf(err.code, err.message, err.field);
    return { status: err.status, body, ...(err.retryAfter === undefined ? {} : { retryAfter: err.retryAfter }), internal: err.status >= 500 && err.status !== 503 };
  }
  if (err instanceof StoreError) {
    const status = STORE_STATUS[err.code] ?? 500;
    return { status, body: bodyOf(err.code, err.message), ...(status === 503 ? { retryAfter: 1 } : {}), internal: status === 500 };
  }
  if (err instanceof CaError) {
    if (CA_BAD_INPUT.has(err.code)) return { status: 400, body: bodyOf(err.code, err.message, err.code === 'ERR_CA_BAD_AUDIENCE' ? 'audience' : csrField), internal: false };
    return { status: 503, body: bodyOf(err.code, err.message), retryAfter: 5, internal: true };
  }
  const status = (err as { statusCode?: unknown } | null)?.statusCode;
  if (!(err instanceof MeshwardError) && typeof status === 'number' && status >= 400 && status < 500) {
    const code = status === 413 ? 'ERR_SERVER_BODY_TOO_LARGE' : status === 415 ? 'ERR_SERVER_UNSUPPORTED_MEDIA_TYPE' : 'ERR_SERVER_BAD_REQUEST';
    return { status, body: bodyOf(code, `malformed request: ${(err as Error).message}`), internal: false };
  }
  return { status: 500, body: bodyOf('ERR_SERVER_INTERNAL', 'internal error; see the server log'), internal: true };
}

export function sendError(reply: FastifyReply, e: ErrorReply): FastifyReply {
  if (e.retryAfter !== undefined) void reply.header('retry-after', String(e.retryAfter));
  return reply.code(e.status).type('application/json; charset=utf-8').send(e.body);
}

function bodyOf(code: string, message: string, field?: string): ErrorReply['body'] {
  return field === undefined ? { error: { code, message } } : { error: { code, message, field } };
}
