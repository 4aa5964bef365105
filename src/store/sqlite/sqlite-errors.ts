import { StoreError } from '../store-error.js';
import type { SqlStep } from '../sql/statement.js';

const UNIQUE = new Set(['SQLITE_CONSTRAINT_UNIQUE', 'SQLITE_CONSTRAINT_PRIMARYKEY']);
/** Result codes that mean the file is not usable right now, as opposed to a bad statement. */
const UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|IOERR|CANTOPEN|FULL|READONLY|CORRUPT|NOTADB|PERM)/;

/** Maps a better-sqlite3 error to a StoreError where it has a meaning for callers; anything else is a bug and stays as it is. */
export function mapSqliteError(err: unknown, step?: SqlStep): unknown {
  if (err instanceof StoreError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return err;
  const message = err instanceof Error ? err.message : String(err);
  if (UNIQUE.has(code)) {
    return new StoreError('ERR_STORE_ALREADY_EXISTS', step?.conflict?.(message) ?? `already exists (${message})`, { cause: err });
  }
  if (UNAVAILABLE.test(code)) return new StoreError('ERR_STORE_UNAVAILABLE', `sqlite: ${message}`, { cause: err });
  return err;
}
