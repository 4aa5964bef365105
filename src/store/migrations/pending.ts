import { StoreError } from '../store-error.js';
import { LATEST_SCHEMA_VERSION, MIGRATIONS, type Migration } from './index.js';

/** Migrations after `current`; refuses a database written by a newer meshward (its schema we cannot know). */
export function pendingMigrations(current: number): readonly Migration[] {
  if (current > LATEST_SCHEMA_VERSION) {
    throw new StoreError(
      'ERR_STORE_MIGRATION',
      `the database schema is version ${current}, newer than this meshward supports (${LATEST_SCHEMA_VERSION}); upgrade meshward`,
    );
  }
  return MIGRATIONS.slice(current);
}
