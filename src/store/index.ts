export type { Datastore } from './datastore.js';
export type * from './types.js';
export { StoreError, type StoreErrorCode } from './store-error.js';
export { openDatastore, DEFAULT_SQLITE_FILE } from './open-datastore.js';
export { openSqliteDatastore, type SqliteOptions } from './sqlite/open-sqlite.js';
export { openPostgresDatastore, type PostgresOptions } from './postgres/open-postgres.js';
export { LATEST_SCHEMA_VERSION } from './migrations/index.js';
export { newEntry } from './new-entry.js';
