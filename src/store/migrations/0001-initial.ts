import type { Migration } from './migration.js';

/**
 * The first schema. Dialects differ only in column types: SQLite keeps
 * booleans as 0/1 and uses AUTOINCREMENT; PostgreSQL uses BIGINT, BOOLEAN and
 * identity columns. JSON-shaped fields are TEXT in both (read back whole).
 */
const tables = (t: { int: string; bool: string; serial: string }): string => `
CREATE TABLE entries (
  id TEXT PRIMARY KEY,
  spiffe_id TEXT NOT NULL,
  parent_id TEXT NOT NULL,
  selectors TEXT NOT NULL,
  similarity_key TEXT NOT NULL,
  x509_svid_ttl ${t.int} NOT NULL,
  jwt_svid_ttl ${t.int} NOT NULL,
  dns_names TEXT NOT NULL,
  admin ${t.bool} NOT NULL,
  federates_with TEXT NOT NULL,
  labels TEXT NOT NULL,
  hint TEXT NOT NULL,
  expires_at ${t.int},
  revision ${t.int} NOT NULL,
  created_at ${t.int} NOT NULL,
  updated_at ${t.int} NOT NULL,
  CONSTRAINT entries_similarity_key UNIQUE (similarity_key)
);
CREATE INDEX entries_parent_id ON entries (parent_id);
CREATE INDEX entries_spiffe_id ON entries (spiffe_id);

CREATE TABLE entry_selectors (
  entry_id TEXT NOT NULL REFERENCES entries (id) ON DELETE CASCADE,
  type TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (entry_id, type, value)
);
CREATE INDEX entry_selectors_type_value ON entry_selectors (type, value);

CREATE TABLE join_tokens (
  id TEXT PRIMARY KEY,
  token_hash TEXT NOT NULL,
  expires_at ${t.int} NOT NULL,
  alias_spiffe_id TEXT,
  created_at ${t.int} NOT NULL,
  CONSTRAINT join_tokens_token_hash UNIQUE (token_hash)
);
CREATE INDEX join_tokens_expires_at ON join_tokens (expires_at);

CREATE TABLE agents (
  spiffe_id TEXT PRIMARY KEY,
  attestation_type TEXT NOT NULL,
  selectors TEXT NOT NULL,
  serial_number TEXT NOT NULL,
  expires_at ${t.int} NOT NULL,
  banned ${t.bool} NOT NULL,
  created_at ${t.int} NOT NULL,
  updated_at ${t.int} NOT NULL
);

CREATE TABLE bundles (
  trust_domain TEXT PRIMARY KEY,
  document TEXT NOT NULL,
  sequence ${t.int} NOT NULL,
  updated_at ${t.int} NOT NULL
);

CREATE TABLE authorities (
  replica_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  authority_id TEXT NOT NULL,
  public_data TEXT NOT NULL,
  not_after ${t.int} NOT NULL,
  updated_at ${t.int} NOT NULL,
  PRIMARY KEY (replica_id, kind, authority_id)
);

CREATE TABLE revocations (
  id TEXT PRIMARY KEY,
  spiffe_id TEXT NOT NULL,
  serial_number TEXT,
  reason TEXT NOT NULL,
  expires_at ${t.int} NOT NULL,
  created_at ${t.int} NOT NULL
);
CREATE INDEX revocations_expires_at ON revocations (expires_at);

CREATE TABLE policies (
  namespace TEXT NOT NULL,
  name TEXT NOT NULL,
  document TEXT NOT NULL,
  revision ${t.int} NOT NULL,
  updated_at ${t.int} NOT NULL,
  PRIMARY KEY (namespace, name)
);

CREATE TABLE audit (
  id ${t.serial},
  time ${t.int} NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT NOT NULL,
  outcome TEXT NOT NULL,
  detail TEXT NOT NULL
);

CREATE TABLE changes (
  id ${t.serial},
  kind TEXT NOT NULL,
  key TEXT NOT NULL,
  time ${t.int} NOT NULL
);
`;

export const initialSchema: Migration = {
  version: 1,
  description: 'entries, join tokens, agents, bundles, authorities, revocations, policies, audit, change log',
  sqlite: tables({ int: 'INTEGER', bool: 'INTEGER', serial: 'INTEGER PRIMARY KEY AUTOINCREMENT' }),
  postgres: tables({ int: 'BIGINT', bool: 'BOOLEAN', serial: 'BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY' }),
};
