/**
 * PostgreSQL failures → StoreError, with messages that never carry the
 * connection password (pg's own messages do not, but we scrub anyway, and we
 * attach no `cause`: a driver error's detail can echo key values).
 */
import { StoreError } from '../store-error.js';
import type { SqlStep } from '../sql/statement.js';

/** SQLSTATE classes that mean "the database is not there for us right now": connection, auth, missing database, resources, shutdown. */
const UNAVAILABLE_CLASSES = new Set(['08', '28', '3D', '53', '57']);
const RETRYABLE = new Set(['40001', '40P01']); // serialization failure, deadlock

interface PgLikeError {
  code?: unknown;
  constraint?: unknown;
  message?: unknown;
}

const sqlState = (err: unknown): string | null => {
  const code = (err as PgLikeError | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : null;
};

export function isRetryable(err: unknown): boolean {
  const code = sqlState(err);
  return code !== null && RETRYABLE.has(code);
}

export class PgErrorMapper {
  /** @param target the server as `postgres://user@host:port/db`, no password. */
  constructor(
    private readonly target: string,
    private readonly secrets: readonly string[],
  ) {}

  scrub(text: string): string {
    let out = text;
    for (const secret of this.secrets) if (secret) out = out.split(secret).join('***');
    return out;
  }

  unavailable(err: unknown): StoreError {
    const e = err as PgLikeError & { errors?: PgLikeError[] };
    // Node reports a refused dual-stack connect as an AggregateError with an empty message.
    const text = [e?.message, e?.errors?.[0]?.message, e?.code].find((v) => typeof v === 'string' && v !== '') ?? String(err);
    return new StoreError('ERR_STORE_UNAVAILABLE', `postgres at ${this.target} is unavailable: ${this.scrub(String(text))}`);
  }

  /** An error from a query or connect: a StoreError where callers can act on it, the raw error for retries and bugs. */
  map(err: unknown, step?: SqlStep): unknown {
    if (err instanceof StoreError) return err;
    const code = sqlState(err);
    if (code === null) return this.unavailable(err); // no SQLSTATE: the socket, a timeout or the pool failed
    if (code === '23505') {
      const hint = `${String((err as PgLikeError).constraint ?? '')} ${String((err as PgLikeError).message ?? '')}`;
      return new StoreError('ERR_STORE_ALREADY_EXISTS', step?.conflict?.(hint) ?? 'already exists');
    }
    if (UNAVAILABLE_CLASSES.has(code.slice(0, 2))) return this.unavailable(err);
    return err;
  }
}
