/**
 * Revoked SPIFFE IDs in memory, refreshed from the change log: a revoked ID
 * gets no new SVIDs while its revocation record lasts.
 */
import type { Datastore } from '../store/datastore.js';
import type { Change, Revocation } from '../store/types.js';

export class RevocationCache {
  readonly #store: Datastore;
  readonly #now: () => number;
  #byId = new Map<string, Revocation[]>();

  constructor(store: Datastore, now: () => number) {
    this.#store = store;
    this.#now = now;
  }

  async load(): Promise<void> {
    const list = await this.#store.listRevocations(this.#now());
    const byId = new Map<string, Revocation[]>();
    for (const r of list) {
      const l = byId.get(r.spiffeId);
      if (l === undefined) byId.set(r.spiffeId, [r]);
      else l.push(r);
    }
    this.#byId = byId;
  }

  /** The live revocation of this ID, if any. */
  revocationOf(spiffeId: string): Revocation | undefined {
    const list = this.#byId.get(spiffeId);
    if (list === undefined) return undefined;
    const now = this.#now();
    return list.find((r) => r.expiresAt > now);
  }

  async apply(changes: readonly Change[]): Promise<void> {
    if (changes.some((c) => c.kind === 'revocation')) await this.load();
  }
}
