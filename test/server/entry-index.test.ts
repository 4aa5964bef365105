/** The entry index on its own: authorization by parent, alias and recursion, expiry, cycles, change-log updates, 10,000 entries. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { MemoryEntryIndex } from '../../src/server/entry-index.js';
import { openSqliteDatastore } from '../../src/store/sqlite/open-sqlite.js';
import type { Selector } from '../../src/store/types.js';
import { newEntry, tempDir } from './support/runtime.js';

const SERVER = 'spiffe://example.org/meshward/server';
const AGENT = 'spiffe://example.org/meshward/agent/join_token/t1';

async function setup(t: { after(fn: () => unknown): void }, selectors: Selector[] = [{ type: 'join_token', value: 't1' }]) {
  const store = await openSqliteDatastore(join(tempDir(t), 'db.sqlite3'));
  t.after(() => store.close());
  let now = 1_000;
  const index = new MemoryEntryIndex(store, { serverId: SERVER, selectorsOf: (id) => (id === AGENT ? selectors : undefined), now: () => now, poll: async () => undefined });
  return { store, index, setNow: (n: number) => (now = n) };
}

test('parent, alias (selector subset), recursion, expiry, cycles', async (t) => {
  const { store, index, setNow } = await setup(t, [{ type: 'join_token', value: 't1' }, { type: 'region', value: 'eu' }]);
  await store.createEntries(
    [
      newEntry('spiffe://example.org/a', AGENT, { id: 'a' }),
      newEntry('spiffe://example.org/nodes/eu', SERVER, { id: 'alias-eu', selectors: [{ type: 'region', value: 'eu' }] }),
      newEntry('spiffe://example.org/nodes/us', SERVER, { id: 'alias-us', selectors: [{ type: 'region', value: 'us' }] }),
      newEntry('spiffe://example.org/nodes/both', SERVER, { id: 'alias-both', selectors: [{ type: 'region', value: 'eu' }, { type: 'tier', value: 'gold' }] }),
      newEntry('spiffe://example.org/eu-svc', 'spiffe://example.org/nodes/eu', { id: 'eu-svc' }),
      newEntry('spiffe://example.org/us-svc', 'spiffe://example.org/nodes/us', { id: 'us-svc' }),
      newEntry('spiffe://example.org/gold-svc', 'spiffe://example.org/nodes/both', { id: 'gold-svc' }),
      newEntry('spiffe://example.org/a-child', 'spiffe://example.org/a', { id: 'a-child' }),
      newEntry('spiffe://example.org/a', 'spiffe://example.org/a-child', { id: 'cycle' }),
      newEntry('spiffe://example.org/short', AGENT, { id: 'short', expiresAt: 1_500 }),
      newEntry('spiffe://example.org/short-child', 'spiffe://example.org/short', { id: 'short-child' }),
    ],
    1,
  );
  await index.load();
  const ids = (): string[] => index.authorizedEntriesOf(AGENT).map((e) => e.id).sort();
  assert.deepEqual(ids(), ['a', 'a-child', 'cycle', 'eu-svc', 'short', 'short-child']);
  setNow(2_000);
  assert.deepEqual(ids(), ['a', 'a-child', 'cycle', 'eu-svc']);
  assert.deepEqual(index.authorizedEntriesOf('spiffe://example.org/meshward/agent/join_token/nobody').map((e) => e.id), []);
});

test('changes from the log are applied one by one, or by a full reload for big batches', async (t) => {
  const { store, index } = await setup(t);
  await index.load();
  const [e] = await store.createEntries([newEntry('spiffe://example.org/x', AGENT)], 1);
  assert.equal(index.get(e!.id), undefined);
  await index.apply(await store.changesSince(0));
  assert.equal(index.get(e!.id)?.spiffeId, 'spiffe://example.org/x');
  await store.deleteEntry(e!.id, 2);
  await index.apply(await store.changesSince(0));
  assert.equal(index.get(e!.id), undefined);
  await store.createEntries(Array.from({ length: 300 }, (_, i) => newEntry(`spiffe://example.org/bulk/${i}`, AGENT)), 3);
  await index.apply(await store.changesSince(0, 10_000));
  assert.equal(index.authorizedEntriesOf(AGENT).length, 300);
});

test('10,000 entries: an agent\'s authorized entries are found without scanning them all', async (t) => {
  const { store, index } = await setup(t);
  const agents = Array.from({ length: 100 }, (_, i) => `spiffe://example.org/meshward/agent/join_token/a${i}`);
  const batch = [];
  for (let i = 0; i < 10_000; i++) batch.push(newEntry(`spiffe://example.org/svc/${i}`, agents[i % 100]!));
  for (let i = 0; i < batch.length; i += 1000) await store.createEntries(batch.slice(i, i + 1000), 1);
  await index.load();
  assert.equal(index.size, 10_000);
  assert.equal(index.authorizedEntriesOf(agents[7]!).length, 100);
});
