/**
 * Records the control plane keeps. Plain data: times are epoch seconds
 * (integers), IDs are strings. Validation of their contents (SPIFFE IDs,
 * selectors, TTLs) happens at the API boundary, before anything reaches a
 * Datastore; the Datastore enforces uniqueness and atomicity.
 */

export interface Selector {
  /** e.g. `unix`, `join_token`. */
  readonly type: string;
  /** e.g. `uid:1000`. */
  readonly value: string;
}

export interface RegistrationEntry {
  /** Server-assigned (random UUID) unless given at creation. */
  readonly id: string;
  readonly spiffeId: string;
  readonly parentId: string;
  /** Sorted by type then value; no duplicates. */
  readonly selectors: readonly Selector[];
  /** Seconds; 0 means the server default. */
  readonly x509SvidTtl: number;
  readonly jwtSvidTtl: number;
  readonly dnsNames: readonly string[];
  /** Its SVID may call the admin API. */
  readonly admin: boolean;
  /** Trust domain names whose bundles workloads of this entry receive. */
  readonly federatesWith: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
  readonly hint: string;
  /** Epoch seconds after which the entry no longer applies; null for never. */
  readonly expiresAt: number | null;
  /** Bumped on every update. */
  readonly revision: number;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export type NewEntry = Omit<RegistrationEntry, 'id' | 'revision' | 'createdAt' | 'updatedAt'> & { readonly id?: string };

/** Fields an update may change; the entry's ID never changes. */
export type EntryUpdate = Partial<Omit<RegistrationEntry, 'id' | 'revision' | 'createdAt' | 'updatedAt'>>;

export interface EntryFilter {
  readonly spiffeId?: string;
  readonly parentId?: string;
  /** Entries whose selectors include all of these. */
  readonly selectors?: readonly Selector[];
}

export interface AttestedAgent {
  /** `spiffe://TD/meshward/agent/join_token/<token-id>`. */
  readonly spiffeId: string;
  readonly attestationType: string;
  /** Node selectors from attestation (e.g. `join_token:<token-id>`). */
  readonly selectors: readonly Selector[];
  /** Serial (hex) of the agent's current SVID; a renewal replaces it. */
  readonly serialNumber: string;
  readonly expiresAt: number;
  readonly banned: boolean;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface JoinToken {
  /** Public identifier; appears in the agent's SPIFFE ID. */
  readonly id: string;
  /** SHA-256 (hex) of the secret token; the token itself is never stored. */
  readonly tokenHash: string;
  readonly expiresAt: number;
  /** Node alias the attested agent joins, when given at generation. */
  readonly aliasSpiffeId: string | null;
  readonly createdAt: number;
}

export interface StoredBundle {
  /** Trust domain name (not the `spiffe://` form). */
  readonly trustDomain: string;
  /** The SPIFFE bundle document (JSON text). */
  readonly document: string;
  readonly sequence: number;
  readonly updatedAt: number;
}

/** One CA authority a server replica publishes so that every replica's bundle holds it. */
export interface PublishedAuthority {
  readonly replicaId: string;
  readonly kind: 'x509' | 'jwt';
  /** The authority's own ID (certificate serial hex, or JWT key ID). */
  readonly authorityId: string;
  /** For x509: the CA certificate, base64 DER. For jwt: the public JWK JSON with `kid`. */
  readonly publicData: string;
  readonly notAfter: number;
  readonly updatedAt: number;
}

export interface Revocation {
  readonly id: string;
  /** The revoked identity; every SVID for it issued before `createdAt` is refused. */
  readonly spiffeId: string;
  /** Serial (hex) of one revoked X.509-SVID, when known. */
  readonly serialNumber: string | null;
  readonly reason: string;
  /** When the revoked SVIDs expire anyway: the record can be pruned after this. */
  readonly expiresAt: number;
  readonly createdAt: number;
}

export interface StoredPolicy {
  readonly namespace: string;
  readonly name: string;
  /** The AuthorizationPolicy as YAML text, validated before it was stored. */
  readonly document: string;
  readonly revision: number;
  readonly updatedAt: number;
}

export interface AuditRecord {
  readonly id: number;
  readonly time: number;
  /** Who: an admin SPIFFE ID, `local-admin-socket`, or an agent's SPIFFE ID. */
  readonly actor: string;
  /** What: e.g. `entry.create`, `agent.ban`, `svid.sign`. */
  readonly action: string;
  readonly target: string;
  readonly outcome: 'success' | 'denied' | 'error';
  /** Extra facts, never a secret. */
  readonly detail: Readonly<Record<string, unknown>>;
}

export type NewAuditRecord = Omit<AuditRecord, 'id'>;

/** A row of the change log: what changed, so caches and agents can follow. */
export interface Change {
  readonly id: number;
  readonly kind: 'entry' | 'agent' | 'bundle' | 'authority' | 'revocation' | 'policy';
  readonly key: string;
  readonly time: number;
}
