/**
 * What the agent serves, in memory only (workload keys never touch disk):
 * the entries it may serve (indexed by selector for matching), one
 * X.509-SVID per entry, the bundles (ours and federated), revocations and
 * policies. Every change bumps `version` and emits `'change'` once per tick,
 * which wakes the Workload API streams.
 */
import { EventEmitter } from 'node:events';
import type { Bundle } from '../spiffe/bundle.js';
import { selectorKey } from './attestors/workload-attestor.js';
import type { AgentEntry } from './entry.js';

export interface CachedX509Svid {
  readonly entryId: string;
  readonly entryRevision: number;
  readonly spiffeId: string;
  /** DER certificates, leaf first. */
  readonly chain: readonly Buffer[];
  /** Unencrypted PKCS#8 DER. */
  readonly key: Buffer;
  readonly serialNumber: string;
  /** When we asked for it (not later than its issue time). */
  readonly requestedAt: number;
  readonly expiresAt: number;
  readonly rotateAt: number;
}

export interface Revocation {
  readonly spiffeId: string;
  readonly serialNumber: string | null;
  readonly createdAt: number;
  readonly expiresAt: number;
}

export interface AgentPolicies {
  readonly revision: string;
  readonly policies: ReadonlyArray<{ namespace: string; name: string; document: unknown }>;
}

export class SvidCache extends EventEmitter {
  readonly #entries = new Map<string, AgentEntry>();
  readonly #bySelector = new Map<string, Set<string>>();
  readonly #svids = new Map<string, CachedX509Svid>();
  #bundle: Bundle | undefined;
  #federated = new Map<string, Bundle>();
  #revokedSerials = new Set<string>();
  #revokedIds = new Map<string, number>();
  #revocationList: readonly Revocation[] | undefined;
  #policies: AgentPolicies = { revision: '', policies: [] };
  #entriesSynced = false;
  #version = 0;
  #notifyQueued = false;
  /** Entries with a `unix:sha256:` selector, and a counter bumped each time there were none and now are some. */
  #hashEntries = 0;
  #selectorGeneration = 0;

  get version(): number {
    return this.#version;
  }

  /**
   * True when some entry selects on `unix:sha256:` — only then is a
   * caller's executable worth hashing (a read of the whole file).
   */
  get hashSelectorsWanted(): boolean {
    return this.#hashEntries > 0;
  }

  /**
   * Changes when selectors that were not worth computing become wanted (the
   * first `unix:sha256:` entry): selectors attested before must be attested
   * again.
   */
  get selectorGeneration(): number {
    return this.#selectorGeneration;
  }

  /** True once entries and bundles have been loaded from the server at least once. */
  get ready(): boolean {
    return this.#entriesSynced && this.#bundle !== undefined;
  }

  get bundle(): Bundle | undefined {
    return this.#bundle;
  }

  federatedBundle(trustDomain: string): Bundle | undefined {
    return this.#federated.get(trustDomain);
  }

  get federatedBundles(): ReadonlyMap<string, Bundle> {
    return this.#federated;
  }

  get policies(): AgentPolicies {
    return this.#policies;
  }

  entries(): IterableIterator<AgentEntry> {
    return this.#entries.values();
  }

  entry(id: string): AgentEntry | undefined {
    return this.#entries.get(id);
  }

  get entryCount(): number {
    return this.#entries.size;
  }

  svid(entryId: string): CachedX509Svid | undefined {
    return this.#svids.get(entryId);
  }

  svids(): IterableIterator<CachedX509Svid> {
    return this.#svids.values();
  }

  get svidCount(): number {
    return this.#svids.size;
  }

  /** Replaces the entries; SVIDs of removed entries (or of entries now naming another ID) are dropped at once. */
  setEntries(list: readonly AgentEntry[]): { added: number; removed: number; changed: number } {
    const next = new Map(list.map((e) => [e.id, e]));
    const hashWanted = this.#hashEntries > 0;
    let added = 0;
    let removed = 0;
    let changed = 0;
    for (const [id, old] of this.#entries) {
      const now = next.get(id);
      if (now === undefined) {
        removed++;
        this.#unindex(old);
        this.#entries.delete(id);
        this.#svids.delete(id);
      } else if (now.revision !== old.revision || now.spiffeId !== old.spiffeId) {
        changed++;
        this.#unindex(old);
        this.#entries.set(id, now);
        this.#index(now);
        if (this.#svids.get(id)?.spiffeId !== now.spiffeId) this.#svids.delete(id);
      }
    }
    for (const [id, e] of next) {
      if (!this.#entries.has(id)) {
        added++;
        this.#entries.set(id, e);
        this.#index(e);
      }
    }
    if (!hashWanted && this.#hashEntries > 0) this.#selectorGeneration++;
    const first = !this.#entriesSynced;
    this.#entriesSynced = true;
    if (added + removed + changed > 0 || first) this.changed();
    return { added, removed, changed };
  }

  setBundles(own: Bundle, federated: ReadonlyMap<string, Bundle>): boolean {
    let differs = this.#bundle === undefined || !this.#bundle.equals(own) || federated.size !== this.#federated.size;
    if (!differs) {
      for (const [td, b] of federated) {
        const known = this.#federated.get(td);
        if (known === undefined || !known.equals(b)) differs = true;
      }
    }
    if (!differs) {
      // The same content: keep the caller's objects (the sync hands the same ones back while nothing changes,
      // and equals() is then a reference check). Nothing served changes, so no version bump.
      this.#bundle = own;
      this.#federated = new Map(federated);
      return false;
    }
    this.#bundle = own;
    this.#federated = new Map(federated);
    this.changed();
    return true;
  }

  setRevocations(list: readonly Revocation[]): number {
    // The very list of last time (the sync hands it back while the server's answer is unchanged): every SVID
    // held was checked against it then, or on arrival (putSvids).
    if (list === this.#revocationList) return 0;
    this.#revocationList = list;
    this.#revokedSerials = new Set(list.filter((r) => r.serialNumber !== null && r.serialNumber !== '').map((r) => r.serialNumber!.toLowerCase()));
    this.#revokedIds = new Map();
    // A revocation refuses every SVID of that ID issued before it (docs/server-api.md, POST /v1/revoke).
    for (const r of list) this.#revokedIds.set(r.spiffeId, Math.max(this.#revokedIds.get(r.spiffeId) ?? 0, r.createdAt * 1000));
    let dropped = 0;
    if (this.#revokedSerials.size === 0 && this.#revokedIds.size === 0) return 0; // nothing can be revoked
    for (const [id, svid] of this.#svids) {
      if (this.isRevoked(svid)) {
        this.#svids.delete(id);
        dropped++;
      }
    }
    if (dropped > 0) this.changed();
    return dropped;
  }

  /** Revoked: its serial is listed, or its ID was revoked after we asked for it. */
  isRevoked(svid: Pick<CachedX509Svid, 'serialNumber' | 'spiffeId' | 'requestedAt'>): boolean {
    if (this.#revokedSerials.has(svid.serialNumber.toLowerCase())) return true;
    const at = this.#revokedIds.get(svid.spiffeId);
    return at !== undefined && svid.requestedAt <= at;
  }

  isIdRevokedSince(spiffeId: string, sinceMs: number): boolean {
    const at = this.#revokedIds.get(spiffeId);
    return at !== undefined && sinceMs <= at;
  }

  setPolicies(policies: AgentPolicies): void {
    if (policies.revision === this.#policies.revision) return;
    this.#policies = policies;
    this.emit('policies', policies);
  }

  /** Stores freshly signed SVIDs (ignored when the entry is gone, changed ID, or the SVID is revoked). */
  putSvids(list: readonly CachedX509Svid[]): number {
    let stored = 0;
    for (const s of list) {
      const e = this.#entries.get(s.entryId);
      if (e === undefined || e.spiffeId !== s.spiffeId || this.isRevoked(s)) continue;
      this.#svids.set(s.entryId, s);
      stored++;
    }
    if (stored > 0) this.changed();
    return stored;
  }

  /** Forgets every entry and SVID (the server disowned this agent: banned, evicted, replaced). */
  clear(): void {
    this.#entries.clear();
    this.#bySelector.clear();
    this.#svids.clear();
    this.#hashEntries = 0;
    this.changed();
  }

  /** Drops SVIDs past their expiry; true when any was dropped. */
  dropExpired(now: number): boolean {
    let dropped = false;
    for (const [id, s] of this.#svids) {
      if (s.expiresAt <= now) {
        this.#svids.delete(id);
        dropped = true;
      }
    }
    if (dropped) this.changed();
    return dropped;
  }

  /** Entries whose selectors are all among the workload's (subset match), in a stable order. */
  match(workloadSelectors: ReadonlySet<string>): AgentEntry[] {
    const counts = new Map<string, number>();
    for (const sel of workloadSelectors) {
      const ids = this.#bySelector.get(sel);
      if (ids === undefined) continue;
      for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    const out: AgentEntry[] = [];
    for (const [id, n] of counts) {
      const e = this.#entries.get(id)!;
      if (e.selectors.length > 0 && n === new Set(e.selectors.map(selectorKey)).size) out.push(e);
    }
    return out.sort((a, b) => (a.spiffeId === b.spiffeId ? (a.id < b.id ? -1 : 1) : a.spiffeId < b.spiffeId ? -1 : 1));
  }

  /** Marks a change: streams wake once per tick however many changes happen in it. */
  changed(): void {
    this.#version++;
    if (this.#notifyQueued) return;
    this.#notifyQueued = true;
    setImmediate(() => {
      this.#notifyQueued = false;
      this.emit('change', this.#version);
    });
  }

  #index(e: AgentEntry): void {
    if (e.selectors.some(isHashSelector)) this.#hashEntries++;
    for (const s of new Set(e.selectors.map(selectorKey))) {
      let ids = this.#bySelector.get(s);
      if (ids === undefined) this.#bySelector.set(s, (ids = new Set()));
      ids.add(e.id);
    }
  }

  #unindex(e: AgentEntry): void {
    if (e.selectors.some(isHashSelector)) this.#hashEntries--;
    for (const s of e.selectors.map(selectorKey)) {
      const ids = this.#bySelector.get(s);
      ids?.delete(e.id);
      if (ids?.size === 0) this.#bySelector.delete(s);
    }
  }
}

const isHashSelector = (s: { type: string; value: string }): boolean => s.type === 'unix' && s.value.startsWith('sha256:');
