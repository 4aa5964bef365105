import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openPostgresDatastore, type PostgresOptions } from '../../src/store/index.js';
import { trackOpened, type StoreHarness } from './harness.js';

export const PG_URL = process.env.MESHWARD_TEST_PG_URL;

export const PG_URL_MISSING =
  'MESHWARD_TEST_PG_URL is not set: the PostgreSQL datastore tests need it. ' +
  'Set it, e.g. MESHWARD_TEST_PG_URL=postgres://postgres@127.0.0.1:5432/test';

export async function adminQuery(url: string, text: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(text);
  } finally {
    await client.end();
  }
}

/** A fresh schema `meshward_test_<random>`: parallel runs and tests never see each other's rows. */
export async function createTestSchema(url: string): Promise<{ schema: string; drop: () => Promise<void> }> {
  const schema = `meshward_test_${randomBytes(6).toString('hex')}`;
  await adminQuery(url, `CREATE SCHEMA ${schema}`);
  return { schema, drop: async () => void (await adminQuery(url, `DROP SCHEMA IF EXISTS ${schema} CASCADE`)) };
}

export async function pgHarness(url: string, options: PostgresOptions = {}): Promise<StoreHarness & { schema: string }> {
  const { schema, drop } = await createTestSchema(url);
  const tracked = trackOpened(() => openPostgresDatastore(url, { searchPath: schema, applicationName: schema, ...options }));
  return {
    schema,
    open: tracked.open,
    cleanup: async () => {
      await tracked.closeAll();
      await drop();
    },
  };
}
