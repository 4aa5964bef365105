/**
 * The Datastore both engines share: each method is one operation from the
 * `*-ops.ts` files, run by the engine's SqlRunner (writes as one transaction).
 */
import type { Datastore } from '../datastore.js';
import type { AttestedAgent, EntryFilter, EntryUpdate, JoinToken, NewAuditRecord, NewEntry, Revocation, StoredBundle } from '../types.js';
import { banAgentOp, evictAgentOp, getAgentOp, listAgentsOp, upsertAgentOp, type AgentInput } from './agent-ops.js';
import { listAuthoritiesOp, publishAuthoritiesOp, type AuthorityInput } from './authority-ops.js';
import { deleteBundleOp, getBundleOp, listBundlesOp, putBundleOp } from './bundle-ops.js';
import { createEntriesOp, deleteEntryOp, getEntryOp, listEntriesOp, updateEntryOp } from './entry-ops.js';
import { consumeJoinTokenOp, createJoinTokenOp, pruneJoinTokensOp } from './join-token-ops.js';
import { appendAuditOp, changesSinceOp, latestChangeIdOp, listAuditOp } from './log-ops.js';
import { deletePolicyOp, listPoliciesOp, putPoliciesOp, type PolicyInput } from './policy-ops.js';
import { addRevocationOp, listRevocationsOp, pruneRevocationsOp } from './revocation-ops.js';
import type { SqlRunner } from './runner.js';

export class SqlDatastore implements Datastore {
  readonly kind: string;

  constructor(private readonly runner: SqlRunner) {
    this.kind = runner.kind;
  }

  migrate() {
    return this.runner.migrate();
  }
  ping() {
    return this.runner.ping();
  }
  close() {
    return this.runner.close();
  }

  createEntries(entries: readonly NewEntry[], now: number) {
    return this.runner.write(() => createEntriesOp(entries, now));
  }
  getEntry(id: string) {
    return this.runner.read(() => getEntryOp(id));
  }
  listEntries(filter?: EntryFilter) {
    return this.runner.read(() => listEntriesOp(filter));
  }
  updateEntry(id: string, update: EntryUpdate, now: number) {
    return this.runner.write(() => updateEntryOp(id, update, now));
  }
  deleteEntry(id: string, now: number) {
    return this.runner.write(() => deleteEntryOp(id, now));
  }

  createJoinToken(token: JoinToken) {
    return this.runner.write(() => createJoinTokenOp(token));
  }
  consumeJoinToken(tokenHash: string, now: number) {
    return this.runner.write(() => consumeJoinTokenOp(tokenHash, now));
  }
  pruneJoinTokens(now: number) {
    return this.runner.write(() => pruneJoinTokensOp(now));
  }

  upsertAgent(agent: AgentInput, now: number) {
    return this.runner.write(() => upsertAgentOp(agent, now));
  }
  getAgent(spiffeId: string): Promise<AttestedAgent | null> {
    return this.runner.read(() => getAgentOp(spiffeId));
  }
  listAgents() {
    return this.runner.read(() => listAgentsOp());
  }
  banAgent(spiffeId: string, now: number) {
    return this.runner.write(() => banAgentOp(spiffeId, now));
  }
  evictAgent(spiffeId: string, now: number) {
    return this.runner.write(() => evictAgentOp(spiffeId, now));
  }

  putBundle(bundle: Omit<StoredBundle, 'updatedAt'>, now: number) {
    return this.runner.write(() => putBundleOp(bundle, now));
  }
  getBundle(trustDomain: string) {
    return this.runner.read(() => getBundleOp(trustDomain));
  }
  listBundles() {
    return this.runner.read(() => listBundlesOp());
  }
  deleteBundle(trustDomain: string, now: number) {
    return this.runner.write(() => deleteBundleOp(trustDomain, now));
  }

  publishAuthorities(replicaId: string, authorities: readonly AuthorityInput[], now: number) {
    return this.runner.write(() => publishAuthoritiesOp(replicaId, authorities, now));
  }
  listAuthorities(now: number) {
    return this.runner.read(() => listAuthoritiesOp(now));
  }

  addRevocation(revocation: Revocation) {
    return this.runner.write(() => addRevocationOp(revocation));
  }
  listRevocations(now: number) {
    return this.runner.read(() => listRevocationsOp(now));
  }
  pruneRevocations(now: number) {
    return this.runner.write(() => pruneRevocationsOp(now));
  }

  putPolicies(policies: readonly PolicyInput[], now: number) {
    return this.runner.write(() => putPoliciesOp(policies, now));
  }
  listPolicies() {
    return this.runner.read(() => listPoliciesOp());
  }
  deletePolicy(namespace: string, name: string, now: number) {
    return this.runner.write(() => deletePolicyOp(namespace, name, now));
  }

  appendAudit(record: NewAuditRecord) {
    return this.runner.write(() => appendAuditOp(record));
  }
  listAudit(options?: { sinceId?: number; limit?: number }) {
    return this.runner.read(() => listAuditOp(options));
  }

  changesSince(sinceId: number, limit?: number) {
    return this.runner.read(() => changesSinceOp(sinceId, limit));
  }
  latestChangeId() {
    return this.runner.read(() => latestChangeIdOp());
  }
}
