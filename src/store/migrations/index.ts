import { initialSchema } from './0001-initial.js';
import type { Migration } from './migration.js';

export type { Migration } from './migration.js';

/** Every schema version, oldest first; versions are 1, 2, 3, … with no gaps. */
export const MIGRATIONS: readonly Migration[] = [initialSchema];

export const LATEST_SCHEMA_VERSION = MIGRATIONS.length;

export const SCHEMA_MIGRATIONS_TABLE = 'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)';
