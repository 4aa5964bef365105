import { join } from 'node:path';
import type { Datastore } from './datastore.js';
import { openPostgresDatastore } from './postgres/open-postgres.js';
import { redactSpec } from './redact.js';
import { openSqliteDatastore } from './sqlite/open-sqlite.js';
import { StoreError } from './store-error.js';

export const DEFAULT_SQLITE_FILE = 'datastore.sqlite3';

/**
 * The `--datastore` value to a migrated Datastore: `sqlite` (the file
 * DATA/datastore.sqlite3) or a `postgres://` / `postgresql://` URL.
 */
export async function openDatastore(spec: string, options: { dataDir: string }): Promise<Datastore> {
  if (spec === 'sqlite') return openSqliteDatastore(join(options.dataDir, DEFAULT_SQLITE_FILE));
  if (/^postgres(ql)?:\/\//i.test(spec)) return openPostgresDatastore(spec);
  throw new StoreError(
    'ERR_STORE_INVALID',
    `unknown datastore "${redactSpec(spec)}": expected "sqlite" or a postgres:// URL`,
  );
}
