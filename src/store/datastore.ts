/**
 * The one interface over the control plane's storage. Two implementations:
 * SQLite (embedded, the default) and PostgreSQL (several server replicas).
 * A single conformance suite (test/store/conformance.ts) runs against both.
 *
 * Rules every implementation keeps:
 * - every write is one transaction; a batch is all or nothing;
 * - uniqueness is enforced by the database (never check-then-insert), so two
 *   replicas writing at once never duplicate anything; a conflict raises
 *   StoreError `ERR_STORE_ALREADY_EXISTS`; a missing record on update or
 *   delete raises `ERR_STORE_NOT_FOUND`;
 * - every write appends to the change log in the same transaction: one row
 *   per record written (a batch of N entries appends N; `publishAuthorities`
 *   one, keyed by replica ID; `pruneRevocations` one per pruned revocation).
 *   Join tokens and the audit trail are not followed by anyone and append none;
 *   a refused or no-op write appends none;
 * - change IDs become visible in increasing order (PostgreSQL appends under an
 *   advisory lock), so a follower polling `changesSince(last)` never skips one.
 */
import type {
  AttestedAgent,
  AuditRecord,
  Change,
  EntryFilter,
  EntryUpdate,
  JoinToken,
  NewAuditRecord,
  NewEntry,
  PublishedAuthority,
  RegistrationEntry,
  Revocation,
  StoredBundle,
  StoredPolicy,
} from './types.js';

export interface Datastore {
  /** `sqlite` or `postgres`. */
  readonly kind: string;

  /** Applies pending migrations; safe to call from several replicas at once. */
  migrate(): Promise<void>;
  /** Cheap round trip for readiness checks. */
  ping(): Promise<void>;
  close(): Promise<void>;

  // Registration entries
  /** All or nothing for the entries passed; call it per entry for per-entry results. ERR_STORE_INVALID for a malformed entry. */
  createEntries(entries: readonly NewEntry[], now: number): Promise<RegistrationEntry[]>;
  getEntry(id: string): Promise<RegistrationEntry | null>;
  listEntries(filter?: EntryFilter): Promise<RegistrationEntry[]>;
  updateEntry(id: string, update: EntryUpdate, now: number): Promise<RegistrationEntry>;
  deleteEntry(id: string, now: number): Promise<RegistrationEntry>;

  // Join tokens
  createJoinToken(token: JoinToken): Promise<void>;
  /** Atomically removes and returns the unexpired token with this hash; null when absent, used or expired. */
  consumeJoinToken(tokenHash: string, now: number): Promise<JoinToken | null>;
  pruneJoinTokens(now: number): Promise<number>;

  // Attested agents
  /** Creates the agent, or replaces serial/expiry/selectors of an existing, unbanned one; a banned one: ERR_STORE_AGENT_BANNED. */
  upsertAgent(agent: Omit<AttestedAgent, 'banned' | 'createdAt' | 'updatedAt'>, now: number): Promise<AttestedAgent>;
  getAgent(spiffeId: string): Promise<AttestedAgent | null>;
  listAgents(): Promise<AttestedAgent[]>;
  /** Marks banned: it may never renew or attest again under this ID. */
  banAgent(spiffeId: string, now: number): Promise<AttestedAgent>;
  /** Deletes the agent record (it may re-attest with a new join token). */
  evictAgent(spiffeId: string, now: number): Promise<AttestedAgent>;

  // Bundles (ours and federated), keyed by trust domain name
  putBundle(bundle: Omit<StoredBundle, 'updatedAt'>, now: number): Promise<StoredBundle>;
  getBundle(trustDomain: string): Promise<StoredBundle | null>;
  listBundles(): Promise<StoredBundle[]>;
  deleteBundle(trustDomain: string, now: number): Promise<void>;

  // CA authorities published by each replica
  publishAuthorities(replicaId: string, authorities: ReadonlyArray<Omit<PublishedAuthority, 'replicaId' | 'updatedAt'>>, now: number): Promise<void>;
  /** Every replica's unexpired authorities. */
  listAuthorities(now: number): Promise<PublishedAuthority[]>;

  // Revocations
  addRevocation(revocation: Revocation): Promise<void>;
  listRevocations(now: number): Promise<Revocation[]>;
  pruneRevocations(now: number): Promise<number>;

  // Authorization policies
  putPolicies(policies: ReadonlyArray<Omit<StoredPolicy, 'revision' | 'updatedAt'>>, now: number): Promise<StoredPolicy[]>;
  listPolicies(): Promise<StoredPolicy[]>;
  deletePolicy(namespace: string, name: string, now: number): Promise<void>;

  // Admin audit trail
  appendAudit(record: NewAuditRecord): Promise<void>;
  /** Oldest first, ids above `sinceId` (default 0), at most `limit` (default 1000). */
  listAudit(options?: { sinceId?: number; limit?: number }): Promise<AuditRecord[]>;

  // Change log
  /** Changes with id > `sinceId`, oldest first, at most `limit` (default 1000). */
  changesSince(sinceId: number, limit?: number): Promise<Change[]>;
  latestChangeId(): Promise<number>;
}
