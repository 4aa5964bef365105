/** PostgreSQL for the replica and fault tests: one fresh schema per test, chosen through the URL. */
import assert from 'node:assert/strict';
import { createTestSchema, PG_URL, PG_URL_MISSING } from '../../store/pg-harness.js';

export interface Hooks {
  after(fn: () => unknown): void;
}

/** The test database URL, or a failed test (these tests never skip). */
export function requirePgUrl(): string {
  if (PG_URL === undefined || PG_URL === '') assert.fail(PG_URL_MISSING);
  return PG_URL;
}

/** A datastore URL whose connections use a fresh schema, dropped after the test. */
export async function schemaUrl(t: Hooks, base: string = requirePgUrl()): Promise<string> {
  const { schema, drop } = await createTestSchema(requirePgUrl());
  t.after(drop);
  const url = new URL(base);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return url.toString();
}
