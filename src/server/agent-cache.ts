/**
 * Attested agents in memory, kept current from the change log, so checking
 * an agent's SVID on every request costs no datastore round trip. A miss or
 * a serial mismatch reads the datastore once (the agent may have attested or
 * renewed on another replica in the last 200 ms): the datastore is the truth.
 */
import type { Datastore } from '../store/datastore.js';
import type { AttestedAgent, Change } from '../store/types.js';

export class AgentCache {
  readonly #store: Datastore;
  readonly #agents = new Map<string, AttestedAgent>();

  constructor(store: Datastore) {
    this.#store = store;
  }

  async load(): Promise<void> {
    const agents = await this.#store.listAgents();
    this.#agents.clear();
    for (const a of agents) this.#agents.set(a.spiffeId, a);
  }

  /** Cached record (may lag the datastore by one poll). */
  peek(spiffeId: string): AttestedAgent | undefined {
    return this.#agents.get(spiffeId);
  }

  /** Reads the datastore and updates the cache. */
  async reload(spiffeId: string): Promise<AttestedAgent | undefined> {
    const agent = await this.#store.getAgent(spiffeId);
    if (agent === null) this.#agents.delete(spiffeId);
    else this.#agents.set(spiffeId, agent);
    return agent ?? undefined;
  }

  /** The agent record for a presented SVID serial: from the cache when it agrees, else from the datastore. */
  async lookup(spiffeId: string, serialNumber: string): Promise<AttestedAgent | undefined> {
    const cached = this.#agents.get(spiffeId);
    if (cached !== undefined && cached.serialNumber === serialNumber) return cached;
    return this.reload(spiffeId);
  }

  /** Records what this replica just wrote. */
  put(agent: AttestedAgent): void {
    this.#agents.set(agent.spiffeId, agent);
  }

  drop(spiffeId: string): void {
    this.#agents.delete(spiffeId);
  }

  async apply(changes: readonly Change[]): Promise<void> {
    const keys = new Set<string>();
    for (const c of changes) if (c.kind === 'agent') keys.add(c.key);
    for (const key of keys) await this.reload(key);
  }
}
