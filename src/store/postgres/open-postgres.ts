import pg from 'pg';
import type { Datastore } from '../datastore.js';
import { redactSpec } from '../redact.js';
import { SqlDatastore } from '../sql/sql-datastore.js';
import { StoreError } from '../store-error.js';
import { PgErrorMapper } from './pg-errors.js';
import { PostgresRunner } from './postgres-runner.js';

export interface PostgresOptions {
  /** How long to wait for a connection before ERR_STORE_UNAVAILABLE (ms). */
  readonly connectionTimeoutMs?: number;
  readonly maxConnections?: number;
  /** Schema(s) to use instead of the server's default search_path, e.g. one per test run. */
  readonly searchPath?: string;
  /** Shown in pg_stat_activity; default `meshward`. */
  readonly applicationName?: string;
}

const IDENTIFIERS = /^[A-Za-z_][A-Za-z0-9_$]*(\s*,\s*[A-Za-z_][A-Za-z0-9_$]*)*$/;

/** The URL's secrets: its password, raw and decoded, and any `password=` query value. */
function secretsOf(url: URL): string[] {
  const secrets = [url.password, safeDecode(url.password)];
  for (const [key, value] of url.searchParams) if (/pass/i.test(key)) secrets.push(value);
  return secrets.filter((s) => s.length > 0);
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** A pool on the `postgres://` URL, migrated; ERR_STORE_UNAVAILABLE (without the password) when the server cannot be reached. */
export async function openPostgresDatastore(connectionUrl: string, options: PostgresOptions = {}): Promise<Datastore> {
  let url: URL;
  try {
    url = new URL(connectionUrl);
  } catch {
    throw new StoreError('ERR_STORE_INVALID', `invalid PostgreSQL URL "${redactSpec(connectionUrl)}"`);
  }
  if (options.searchPath !== undefined && !IDENTIFIERS.test(options.searchPath)) {
    throw new StoreError('ERR_STORE_INVALID', `searchPath "${options.searchPath}" must be a comma-separated list of plain identifiers`);
  }
  const target = `postgres://${url.username ? `${url.username}@` : ''}${url.host}${url.pathname}`;
  const pool = new pg.Pool({
    connectionString: connectionUrl,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 5000,
    max: options.maxConnections ?? 10,
    application_name: options.applicationName ?? 'meshward',
    keepAlive: true, // notice a vanished server on idle connections
    ...(options.searchPath === undefined ? {} : { options: `-c search_path=${options.searchPath.replace(/\s+/g, '')}` }),
  });
  // An idle connection dropped by the server must not crash the process; the next query reports it.
  pool.on('error', () => {});
  const store = new SqlDatastore(new PostgresRunner(pool, new PgErrorMapper(target, secretsOf(url))));
  try {
    await store.migrate();
  } catch (err) {
    await store.close().catch(() => {});
    throw err;
  }
  return store;
}
