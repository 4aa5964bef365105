/**
 * Every registration entry in memory, indexed by parent ID and (for node
 * aliases) by selector, kept current from the change log.
 *
 * An agent may serve the entries whose parent is the agent's ID, or the ID
 * of a node alias the agent belongs to (an alias entry has the parent
 * `spiffe://TD/meshward/server`; the agent belongs when the alias's selectors
 * are a subset of the agent's node selectors), and recursively the entries
 * whose parent is the SPIFFE ID of an entry already reached (at most
 * MAX_DEPTH levels; cycles stop). Expired entries are left out, and so is
 * everything reached only through them. Alias entries themselves are not
 * served: the agent is the alias, no workload of it is.
 */
import type { EntryIndex } from './server-context.js';
import type { SpiffeId } from '../spiffe/spiffe-id.js';
import type { Datastore } from '../store/datastore.js';
import type { Change, RegistrationEntry, Selector } from '../store/types.js';

export const MAX_DEPTH = 8;
/** More changed entries than this in one batch: reload all instead of one by one. */
const FULL_RELOAD_THRESHOLD = 200;

export interface EntryIndexOptions {
  /** `spiffe://TD/meshward/server`: the parent of node alias entries. */
  readonly serverId: string;
  /** The node selectors of an attested agent (undefined: unknown agent). */
  readonly selectorsOf: (agentId: string) => readonly Selector[] | undefined;
  /** Epoch seconds. */
  readonly now: () => number;
  /** Resolves when the change log has been read up to now. */
  readonly poll: () => Promise<void>;
}

const selectorKey = (s: Selector): string => `${s.type}\u0000${s.value}`;

export class MemoryEntryIndex implements EntryIndex {
  readonly #store: Datastore;
  readonly #options: EntryIndexOptions;
  #entries = new Map<string, RegistrationEntry>();
  #byParent = new Map<string, Set<string>>();
  #aliasesBySelector = new Map<string, Set<string>>();

  constructor(store: Datastore, options: EntryIndexOptions) {
    this.#store = store;
    this.#options = options;
  }

  get size(): number {
    return this.#entries.size;
  }

  async load(): Promise<void> {
    const entries = await this.#store.listEntries();
    this.#entries = new Map();
    this.#byParent = new Map();
    this.#aliasesBySelector = new Map();
    for (const e of entries) this.#add(e);
  }

  async apply(changes: readonly Change[]): Promise<void> {
    const keys = new Set<string>();
    for (const c of changes) if (c.kind === 'entry') keys.add(c.key);
    if (keys.size === 0) return;
    if (keys.size > FULL_RELOAD_THRESHOLD) {
      await this.load();
      return;
    }
    for (const id of keys) {
      const entry = await this.#store.getEntry(id);
      this.#remove(id);
      if (entry !== null) this.#add(entry);
    }
  }

  /** Records what this replica just wrote (the change log confirms it later). */
  put(entry: RegistrationEntry): void {
    this.#remove(entry.id);
    this.#add(entry);
  }

  /** Forgets an entry this replica just deleted. */
  drop(entryId: string): void {
    this.#remove(entryId);
  }

  get(entryId: string): RegistrationEntry | undefined {
    return this.#entries.get(entryId);
  }

  refresh(): Promise<void> {
    return this.#options.poll();
  }

  authorizedEntries(agentId: SpiffeId): readonly RegistrationEntry[] {
    return this.authorizedEntriesOf(agentId.toString());
  }

  authorizedEntriesOf(agent: string): RegistrationEntry[] {
    const now = this.#options.now();
    const live = (e: RegistrationEntry): boolean => e.expiresAt === null || e.expiresAt > now;
    const visited = new Set<string>([agent]);
    let frontier: string[] = [agent];
    for (const aliasId of this.#aliasesOf(agent, live)) {
      if (!visited.has(aliasId)) {
        visited.add(aliasId);
        frontier.push(aliasId);
      }
    }
    const result: RegistrationEntry[] = [];
    const taken = new Set<string>();
    for (let depth = 0; depth < MAX_DEPTH && frontier.length > 0; depth++) {
      const next: string[] = [];
      for (const parent of frontier) {
        const children = this.#byParent.get(parent);
        if (children === undefined) continue;
        for (const id of children) {
          const e = this.#entries.get(id)!;
          if (taken.has(id) || !live(e)) continue;
          taken.add(id);
          result.push(e);
          if (!visited.has(e.spiffeId)) {
            visited.add(e.spiffeId);
            next.push(e.spiffeId);
          }
        }
      }
      frontier = next;
    }
    return result;
  }

  /** SPIFFE IDs of the live alias entries whose selectors are all among the agent's node selectors. */
  #aliasesOf(agent: string, live: (e: RegistrationEntry) => boolean): string[] {
    const selectors = this.#options.selectorsOf(agent);
    if (selectors === undefined || selectors.length === 0 || this.#aliasesBySelector.size === 0) return [];
    const counts = new Map<string, number>();
    for (const key of new Set(selectors.map(selectorKey))) {
      for (const id of this.#aliasesBySelector.get(key) ?? []) counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    const out: string[] = [];
    for (const [id, count] of counts) {
      const e = this.#entries.get(id)!;
      if (count === new Set(e.selectors.map(selectorKey)).size && live(e)) out.push(e.spiffeId);
    }
    return out;
  }

  #add(e: RegistrationEntry): void {
    this.#entries.set(e.id, e);
    let set = this.#byParent.get(e.parentId);
    if (set === undefined) this.#byParent.set(e.parentId, (set = new Set()));
    set.add(e.id);
    if (e.parentId === this.#options.serverId) {
      for (const s of e.selectors) {
        const key = selectorKey(s);
        let ids = this.#aliasesBySelector.get(key);
        if (ids === undefined) this.#aliasesBySelector.set(key, (ids = new Set()));
        ids.add(e.id);
      }
    }
  }

  #remove(id: string): void {
    const e = this.#entries.get(id);
    if (e === undefined) return;
    this.#entries.delete(id);
    const set = this.#byParent.get(e.parentId);
    set?.delete(id);
    if (set?.size === 0) this.#byParent.delete(e.parentId);
    if (e.parentId === this.#options.serverId) {
      for (const s of e.selectors) {
        const key = selectorKey(s);
        const ids = this.#aliasesBySelector.get(key);
        ids?.delete(id);
        if (ids?.size === 0) this.#aliasesBySelector.delete(key);
      }
    }
  }
}
