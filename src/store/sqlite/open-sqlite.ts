import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Datastore } from '../datastore.js';
import { StoreError } from '../store-error.js';
import { SqlDatastore } from '../sql/sql-datastore.js';
import { SqliteRunner } from './sqlite-runner.js';

export interface SqliteOptions {
  /** How long a writer waits for another process's lock before failing (ms). */
  readonly busyTimeoutMs?: number;
}

/**
 * Opens (creating, mode 0600) the SQLite file at `path` and applies pending migrations.
 * WAL lets readers run beside the one writer; synchronous=FULL makes every
 * acknowledged write (a ban, a revocation) survive a power loss, not only a crash.
 */
export async function openSqliteDatastore(path: string, options: SqliteOptions = {}): Promise<Datastore> {
  let db: Database.Database;
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    closeSync(openSync(path, 'a', 0o600)); // create it ourselves, so the mode is ours and not the umask's
    db = new Database(path);
    db.pragma(`busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 5000)}`);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
  } catch (err) {
    throw new StoreError('ERR_STORE_UNAVAILABLE', `cannot open the SQLite datastore at ${path}: ${(err as Error).message}`, { cause: err });
  }
  const store = new SqlDatastore(new SqliteRunner(db));
  try {
    await store.migrate();
  } catch (err) {
    await store.close();
    throw err;
  }
  return store;
}
