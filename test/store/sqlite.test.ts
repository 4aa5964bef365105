import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openDatastore, openSqliteDatastore, StoreError } from '../../src/store/index.js';
import { runDatastoreConformance } from './conformance.js';
import { assertWholeOrAbsent, CRASH_BATCH, runAndKill, SHAPE_SQL, toShape } from './crash.js';
import { newEntry, trackOpened, type StoreHarness } from './harness.js';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'meshward-store-'));
}

runDatastoreConformance('sqlite', async (): Promise<StoreHarness> => {
  const dir = tempDir();
  const tracked = trackOpened(() => openSqliteDatastore(join(dir, 'datastore.sqlite3')));
  return {
    open: tracked.open,
    cleanup: async () => {
      await tracked.closeAll();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

test('sqlite: openDatastore("sqlite") creates DATA/datastore.sqlite3 with mode 0600, in WAL mode with foreign keys', async (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = await openDatastore('sqlite', { dataDir: join(dir, 'data') });
  t.after(() => store.close());
  assert.equal(store.kind, 'sqlite');
  const file = join(dir, 'data', 'datastore.sqlite3');
  await store.createEntries([newEntry()], 1);
  for (const f of [file, `${file}-wal`, `${file}-shm`]) assert.equal(statSync(f).mode & 0o777, 0o600, f);
  const db = new Database(file, { readonly: true });
  t.after(() => db.close());
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  assert.deepEqual(db.prepare('SELECT version FROM schema_migrations').all(), [{ version: 1 }]);
});

test('sqlite: a database from a newer meshward is refused with ERR_STORE_MIGRATION', async (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'datastore.sqlite3');
  await (await openSqliteDatastore(file)).close();
  const db = new Database(file);
  db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (999, 0)').run();
  db.close();
  await assert.rejects(openSqliteDatastore(file), (err: unknown) => err instanceof StoreError && err.code === 'ERR_STORE_MIGRATION' && /999/.test(err.message));
});

test('openDatastore: an unknown spec is ERR_STORE_INVALID naming it without its password', async () => {
  await assert.rejects(openDatastore('mysql://admin:hunter2secret@db.example/meshward', { dataDir: '/nonexistent' }), (err: unknown) => {
    assert.ok(err instanceof StoreError);
    assert.equal(err.code, 'ERR_STORE_INVALID');
    assert.match(err.message, /mysql:\/\/admin:\*\*\*@db\.example\/meshward/);
    assert.doesNotMatch(err.message, /hunter2secret/);
    return true;
  });
  await assert.rejects(openDatastore('sqlite3', { dataDir: '/nonexistent' }), /unknown datastore "sqlite3"/);
});

test('sqlite: kill -9 during batch creates leaves each entry whole or absent, and the file opens cleanly', async (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'datastore.sqlite3');
  let expected = 0;
  for (let round = 1; round <= 3; round++) {
    const reported = await runAndKill(['sqlite', file], expected + CRASH_BATCH * 4);
    const db = new Database(file);
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
    const changes = (db.prepare('SELECT COUNT(*) AS n FROM changes').get() as { n: number }).n;
    const shape = toShape(db.prepare(SHAPE_SQL).all() as Record<string, unknown>[], changes);
    db.close();
    assertWholeOrAbsent(shape, reported);
    expected = shape.entries.length;
  }
  const store = await openSqliteDatastore(file);
  t.after(() => store.close());
  assert.equal((await store.listEntries()).length, expected);
  await store.createEntries([newEntry({ spiffeId: 'spiffe://example.org/after-crash' })], 1);
});
