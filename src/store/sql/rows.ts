/**
 * Row ↔ record mapping shared by both engines. PostgreSQL returns BIGINT as
 * text and BOOLEAN as boolean, SQLite returns numbers for both; `num` and
 * `Boolean` accept either.
 */
import type {
  AttestedAgent,
  AuditRecord,
  Change,
  JoinToken,
  PublishedAuthority,
  RegistrationEntry,
  Revocation,
  Selector,
  StoredBundle,
  StoredPolicy,
} from '../types.js';
import type { Row } from './statement.js';

const num = (v: unknown): number => Number(v);
const str = (v: unknown): string => String(v);
const json = <T>(v: unknown): T => JSON.parse(String(v)) as T;

export const ENTRY_COLUMNS =
  'id, spiffe_id, parent_id, selectors, x509_svid_ttl, jwt_svid_ttl, dns_names, admin, federates_with, labels, hint, expires_at, revision, created_at, updated_at';

export function toEntry(r: Row): RegistrationEntry {
  return {
    id: str(r.id),
    spiffeId: str(r.spiffe_id),
    parentId: str(r.parent_id),
    selectors: json<Selector[]>(r.selectors),
    x509SvidTtl: num(r.x509_svid_ttl),
    jwtSvidTtl: num(r.jwt_svid_ttl),
    dnsNames: json<string[]>(r.dns_names),
    admin: Boolean(r.admin),
    federatesWith: json<string[]>(r.federates_with),
    labels: json<Record<string, string>>(r.labels),
    hint: str(r.hint),
    expiresAt: r.expires_at === null ? null : num(r.expires_at),
    revision: num(r.revision),
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
  };
}

export const AGENT_COLUMNS = 'spiffe_id, attestation_type, selectors, serial_number, expires_at, banned, created_at, updated_at';

export function toAgent(r: Row): AttestedAgent {
  return {
    spiffeId: str(r.spiffe_id),
    attestationType: str(r.attestation_type),
    selectors: json<Selector[]>(r.selectors),
    serialNumber: str(r.serial_number),
    expiresAt: num(r.expires_at),
    banned: Boolean(r.banned),
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
  };
}

export const JOIN_TOKEN_COLUMNS = 'id, token_hash, expires_at, alias_spiffe_id, created_at';

export function toJoinToken(r: Row): JoinToken {
  return {
    id: str(r.id),
    tokenHash: str(r.token_hash),
    expiresAt: num(r.expires_at),
    aliasSpiffeId: r.alias_spiffe_id === null ? null : str(r.alias_spiffe_id),
    createdAt: num(r.created_at),
  };
}

export const BUNDLE_COLUMNS = 'trust_domain, document, sequence, updated_at';

export function toBundle(r: Row): StoredBundle {
  return { trustDomain: str(r.trust_domain), document: str(r.document), sequence: num(r.sequence), updatedAt: num(r.updated_at) };
}

export const AUTHORITY_COLUMNS = 'replica_id, kind, authority_id, public_data, not_after, updated_at';

export function toAuthority(r: Row): PublishedAuthority {
  return {
    replicaId: str(r.replica_id),
    kind: str(r.kind) as PublishedAuthority['kind'],
    authorityId: str(r.authority_id),
    publicData: str(r.public_data),
    notAfter: num(r.not_after),
    updatedAt: num(r.updated_at),
  };
}

export const REVOCATION_COLUMNS = 'id, spiffe_id, serial_number, reason, expires_at, created_at';

export function toRevocation(r: Row): Revocation {
  return {
    id: str(r.id),
    spiffeId: str(r.spiffe_id),
    serialNumber: r.serial_number === null ? null : str(r.serial_number),
    reason: str(r.reason),
    expiresAt: num(r.expires_at),
    createdAt: num(r.created_at),
  };
}

export const POLICY_COLUMNS = 'namespace, name, document, revision, updated_at';

export function toPolicy(r: Row): StoredPolicy {
  return { namespace: str(r.namespace), name: str(r.name), document: str(r.document), revision: num(r.revision), updatedAt: num(r.updated_at) };
}

export const AUDIT_COLUMNS = 'id, time, actor, action, target, outcome, detail';

export function toAudit(r: Row): AuditRecord {
  return {
    id: num(r.id),
    time: num(r.time),
    actor: str(r.actor),
    action: str(r.action),
    target: str(r.target),
    outcome: str(r.outcome) as AuditRecord['outcome'],
    detail: json<Record<string, unknown>>(r.detail),
  };
}

export function toChange(r: Row): Change {
  return { id: num(r.id), kind: str(r.kind) as Change['kind'], key: str(r.key), time: num(r.time) };
}
