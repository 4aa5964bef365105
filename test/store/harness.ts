import type { Datastore } from '../../src/store/index.js';
import type { NewEntry, Selector } from '../../src/store/index.js';
import { newEntry as entryWithDefaults } from '../../src/store/new-entry.js';

/** One isolated database for one test: a temp SQLite file, or a fresh PostgreSQL schema. */
export interface StoreHarness {
  /** A new, migrated Datastore on this database: a second connection, or a second replica. */
  open(): Promise<Datastore>;
  /** Closes everything open() returned and removes the database. */
  cleanup(): Promise<void>;
}

export type HarnessFactory = () => Promise<StoreHarness>;

/** Tracks what a harness opened, so cleanup closes it all. */
export function trackOpened(open: () => Promise<Datastore>): { open: () => Promise<Datastore>; closeAll: () => Promise<void> } {
  const opened: Datastore[] = [];
  return {
    open: async () => {
      const store = await open();
      opened.push(store);
      return store;
    },
    closeAll: async () => {
      await Promise.all(opened.map((s) => s.close().catch(() => {})));
    },
  };
}

export const sel = (type: string, value: string): Selector => ({ type, value });

export function newEntry(overrides: Partial<NewEntry> = {}): NewEntry {
  return entryWithDefaults({
    spiffeId: 'spiffe://example.org/web',
    parentId: 'spiffe://example.org/meshward/agent/join_token/t1',
    selectors: [sel('unix', 'uid:1000')],
    ...overrides,
  });
}
