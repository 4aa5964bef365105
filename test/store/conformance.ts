/**
 * The Datastore contract, run against every implementation
 * (test/store/sqlite.test.ts, test/store/postgres.test.ts). Each test gets its
 * own empty database from the factory.
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { Datastore, JoinToken, StoreErrorCode } from '../../src/store/index.js';
import { LATEST_SCHEMA_VERSION, StoreError } from '../../src/store/index.js';
import { newEntry, sel, type HarnessFactory } from './harness.js';

const T0 = 1_900_000_000;
const AGENT = 'spiffe://example.org/meshward/agent/join_token/t1';

async function rejectsWith(promise: Promise<unknown>, code: StoreErrorCode, message?: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof StoreError, `expected a StoreError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (message) assert.match(err.message, message);
    return true;
  });
}

/** Everything a write may touch, to compare before and after a refused write. */
async function snapshot(store: Datastore) {
  return {
    entries: await store.listEntries(),
    agents: await store.listAgents(),
    bundles: await store.listBundles(),
    policies: await store.listPolicies(),
    latestChange: await store.latestChangeId(),
  };
}

function token(overrides: Partial<JoinToken> = {}): JoinToken {
  return { id: 'tok-1', tokenHash: 'a'.repeat(64), expiresAt: T0 + 600, aliasSpiffeId: null, createdAt: T0, ...overrides };
}

export function runDatastoreConformance(name: string, factory: HarnessFactory): void {
  /** A fresh database for one test; `second()` opens another instance (connection or replica) on it. */
  async function setup(t: TestContext): Promise<{ store: Datastore; second: () => Promise<Datastore> }> {
    const harness = await factory();
    t.after(() => harness.cleanup());
    return { store: await harness.open(), second: () => harness.open() };
  }

  describe(`Datastore conformance: ${name}`, () => {
    describe('lifecycle', () => {
      test('three instances opening an empty database at once all migrate it; migrate again is a no-op; ping answers', async (t) => {
        const harness = await factory();
        t.after(() => harness.cleanup());
        const [store, a, b] = await Promise.all([harness.open(), harness.open(), harness.open()]);
        await Promise.all([store!.migrate(), a!.migrate(), b!.migrate()]);
        await store!.ping();
        assert.equal(LATEST_SCHEMA_VERSION >= 1, true);
        await store!.createEntries([newEntry()], T0);
        assert.equal((await b!.listEntries()).length, 1);
        assert.equal(await a!.latestChangeId(), 1);
      });

      test('a closed datastore answers ERR_STORE_UNAVAILABLE, and close twice is harmless', async (t) => {
        const { second } = await setup(t);
        const other = await second();
        await other.close();
        await other.close();
        await rejectsWith(other.listEntries(), 'ERR_STORE_UNAVAILABLE');
        await rejectsWith(other.createEntries([newEntry()], T0), 'ERR_STORE_UNAVAILABLE');
      });
    });

    describe('registration entries', () => {
      test('create assigns id, revision 1 and times; selectors come back sorted without duplicates; get finds it', async (t) => {
        const { store } = await setup(t);
        const [created] = await store.createEntries(
          [
            newEntry({
              selectors: [sel('unix', 'uid:1000'), sel('k8s', 'ns:default'), sel('unix', 'uid:1000'), sel('k8s', 'sa:web')],
              x509SvidTtl: 3600,
              jwtSvidTtl: 300,
              dnsNames: ['web.example.org'],
              admin: true,
              federatesWith: ['other.org'],
              labels: { team: 'payments' },
              hint: 'external',
              expiresAt: T0 + 86400,
            }),
          ],
          T0,
        );
        assert.ok(created);
        assert.match(created.id, /^[0-9a-f-]{36}$/);
        assert.deepEqual(created.selectors, [sel('k8s', 'ns:default'), sel('k8s', 'sa:web'), sel('unix', 'uid:1000')]);
        assert.equal(created.revision, 1);
        assert.equal(created.createdAt, T0);
        assert.equal(created.updatedAt, T0);
        assert.deepEqual(await store.getEntry(created.id), created);
        assert.equal(await store.getEntry('no-such-entry'), null);
      });

      test('a given id is kept; the same id again answers ALREADY_EXISTS', async (t) => {
        const { store } = await setup(t);
        const [created] = await store.createEntries([newEntry({ id: 'entry-1' })], T0);
        assert.equal(created?.id, 'entry-1');
        await rejectsWith(store.createEntries([newEntry({ id: 'entry-1', spiffeId: 'spiffe://example.org/other' })], T0), 'ERR_STORE_ALREADY_EXISTS', /entry-1/);
      });

      test('a similar entry (same spiffeId, parentId and selectors, in any order) answers ALREADY_EXISTS and writes nothing', async (t) => {
        const { store } = await setup(t);
        await store.createEntries([newEntry({ selectors: [sel('a', '1'), sel('b', '2')] })], T0);
        const before = await snapshot(store);
        await rejectsWith(
          store.createEntries([newEntry({ selectors: [sel('b', '2'), sel('a', '1')], hint: 'different hint' })], T0 + 1),
          'ERR_STORE_ALREADY_EXISTS',
          /same selectors/,
        );
        assert.deepEqual(await snapshot(store), before);
        // Any one of the three differing makes it a different entry.
        await store.createEntries([newEntry({ selectors: [sel('a', '1')] })], T0);
        await store.createEntries([newEntry({ selectors: [sel('a', '1'), sel('b', '2')], spiffeId: 'spiffe://example.org/api' })], T0);
        await store.createEntries([newEntry({ selectors: [sel('a', '1'), sel('b', '2')], parentId: 'spiffe://example.org/other-agent' })], T0);
        assert.equal((await store.listEntries()).length, 4);
      });

      test('createEntries is all or nothing: a duplicate inside the batch, a duplicate of a stored entry or an invalid entry writes none', async (t) => {
        const { store } = await setup(t);
        await store.createEntries([newEntry({ spiffeId: 'spiffe://example.org/existing' })], T0);
        const before = await snapshot(store);
        const fresh = (i: number) => newEntry({ spiffeId: `spiffe://example.org/batch-${i}` });

        await rejectsWith(store.createEntries([fresh(1), fresh(2), fresh(1)], T0), 'ERR_STORE_ALREADY_EXISTS');
        await rejectsWith(store.createEntries([fresh(1), newEntry({ spiffeId: 'spiffe://example.org/existing' }), fresh(2)], T0), 'ERR_STORE_ALREADY_EXISTS');
        await rejectsWith(store.createEntries([fresh(1), newEntry({ spiffeId: '' }), fresh(2)], T0), 'ERR_STORE_INVALID', /entry 1: spiffeId/);
        await rejectsWith(store.createEntries([fresh(1), newEntry({ selectors: [] })], T0), 'ERR_STORE_INVALID', /selectors/);
        await rejectsWith(store.createEntries([newEntry({ x509SvidTtl: -1 })], T0), 'ERR_STORE_INVALID', /x509SvidTtl/);
        assert.deepEqual(await snapshot(store), before);

        const created = await store.createEntries([fresh(1), fresh(2), fresh(3)], T0);
        assert.equal(created.length, 3);
        assert.deepEqual(await store.createEntries([], T0), []);
        assert.equal((await store.listEntries()).length, 4);
      });

      test('list filters by spiffeId, parentId and selectors (entries holding all the given ones), alone and combined', async (t) => {
        const { store } = await setup(t);
        const [abc, ab, a, other] = await store.createEntries(
          [
            newEntry({ spiffeId: 'spiffe://example.org/abc', selectors: [sel('s', 'a'), sel('s', 'b'), sel('s', 'c')] }),
            newEntry({ spiffeId: 'spiffe://example.org/ab', selectors: [sel('s', 'a'), sel('s', 'b')] }),
            newEntry({ spiffeId: 'spiffe://example.org/a', selectors: [sel('s', 'a')], parentId: 'spiffe://example.org/agent-2' }),
            newEntry({ spiffeId: 'spiffe://example.org/ab', selectors: [sel('t', 'a')], parentId: 'spiffe://example.org/agent-2' }),
          ],
          T0,
        );
        const ids = async (filter: Parameters<Datastore['listEntries']>[0]) => (await store.listEntries(filter)).map((e) => e.id).sort();
        const sorted = (...xs: (typeof abc)[]) => xs.map((e) => e!.id).sort();

        assert.deepEqual(await ids(undefined), sorted(abc, ab, a, other));
        assert.deepEqual(await ids({ selectors: [sel('s', 'a'), sel('s', 'b')] }), sorted(abc, ab));
        assert.deepEqual(await ids({ selectors: [sel('s', 'b'), sel('s', 'a'), sel('s', 'b')] }), sorted(abc, ab), 'order and repeats do not matter');
        assert.deepEqual(await ids({ selectors: [sel('s', 'a')] }), sorted(abc, ab, a));
        assert.deepEqual(await ids({ selectors: [sel('s', 'c'), sel('t', 'a')] }), []);
        assert.deepEqual(await ids({ selectors: [sel('s', 'z')] }), []);
        assert.deepEqual(await ids({ selectors: [] }), sorted(abc, ab, a, other));
        assert.deepEqual(await ids({ parentId: 'spiffe://example.org/agent-2' }), sorted(a, other));
        assert.deepEqual(await ids({ spiffeId: 'spiffe://example.org/ab' }), sorted(ab, other));
        assert.deepEqual(await ids({ spiffeId: 'spiffe://example.org/ab', parentId: AGENT }), sorted(ab));
        assert.deepEqual(await ids({ parentId: 'spiffe://example.org/agent-2', selectors: [sel('s', 'a')] }), sorted(a));
        assert.deepEqual(await store.listEntries({ parentId: 'spiffe://example.org/nobody' }), []);
      });

      test('update changes the given fields, bumps the revision and keeps id and createdAt; selectors filters follow', async (t) => {
        const { store } = await setup(t);
        const [e] = await store.createEntries([newEntry({ selectors: [sel('s', 'old')] })], T0);
        const updated = await store.updateEntry(e!.id, { selectors: [sel('s', 'new2'), sel('s', 'new1')], admin: true, labels: { a: 'b' }, expiresAt: T0 + 5 }, T0 + 10);
        assert.equal(updated.id, e!.id);
        assert.equal(updated.revision, 2);
        assert.equal(updated.createdAt, T0);
        assert.equal(updated.updatedAt, T0 + 10);
        assert.deepEqual(updated.selectors, [sel('s', 'new1'), sel('s', 'new2')]);
        assert.equal(updated.admin, true);
        assert.equal(updated.spiffeId, e!.spiffeId, 'fields not given stay');
        assert.deepEqual(await store.getEntry(e!.id), updated);
        assert.deepEqual(await store.listEntries({ selectors: [sel('s', 'old')] }), []);
        assert.deepEqual((await store.listEntries({ selectors: [sel('s', 'new1')] })).map((x) => x.id), [e!.id]);
        const again = await store.updateEntry(e!.id, { expiresAt: null, hint: 'h' }, T0 + 20);
        assert.equal(again.revision, 3);
        assert.equal(again.expiresAt, null);
      });

      test('update into a similar entry answers ALREADY_EXISTS and changes nothing; a missing entry answers NOT_FOUND', async (t) => {
        const { store } = await setup(t);
        const [, b] = await store.createEntries([newEntry({ selectors: [sel('s', '1')] }), newEntry({ selectors: [sel('s', '2')] })], T0);
        const before = await snapshot(store);
        await rejectsWith(store.updateEntry(b!.id, { selectors: [sel('s', '1')] }, T0 + 1), 'ERR_STORE_ALREADY_EXISTS');
        await rejectsWith(store.updateEntry(b!.id, { spiffeId: '' }, T0 + 1), 'ERR_STORE_INVALID');
        await rejectsWith(store.updateEntry('missing', { hint: 'x' }, T0 + 1), 'ERR_STORE_NOT_FOUND');
        assert.deepEqual(await snapshot(store), before);
      });

      test('delete returns the entry and removes it (and its selectors); a second delete answers NOT_FOUND', async (t) => {
        const { store } = await setup(t);
        const [e] = await store.createEntries([newEntry({ selectors: [sel('s', 'x')] })], T0);
        assert.deepEqual(await store.deleteEntry(e!.id, T0 + 1), e);
        assert.equal(await store.getEntry(e!.id), null);
        assert.deepEqual(await store.listEntries({ selectors: [sel('s', 'x')] }), []);
        await rejectsWith(store.deleteEntry(e!.id, T0 + 2), 'ERR_STORE_NOT_FOUND');
        // The same entry can be created again once deleted.
        await store.createEntries([newEntry({ selectors: [sel('s', 'x')] })], T0 + 3);
      });

      test('two instances creating the same entry at once: exactly one succeeds, no duplicate', async (t) => {
        const { store, second } = await setup(t);
        const replica = await second();
        for (let i = 0; i < 10; i++) {
          const entry = newEntry({ spiffeId: `spiffe://example.org/race-${i}` });
          const results = await Promise.allSettled([store.createEntries([entry], T0), replica.createEntries([entry], T0)]);
          assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1, `round ${i}`);
          const failure = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
          assert.equal((failure.reason as StoreError).code, 'ERR_STORE_ALREADY_EXISTS');
        }
        assert.equal((await replica.listEntries()).length, 10);
        assert.equal((await store.changesSince(0)).length, 10);
      });
    });

    describe('join tokens', () => {
      test('a token is consumed once: the first consume returns it, the second finds nothing', async (t) => {
        const { store } = await setup(t);
        const tok = token({ aliasSpiffeId: 'spiffe://example.org/alias/web' });
        await store.createJoinToken(tok);
        assert.deepEqual(await store.consumeJoinToken(tok.tokenHash, T0 + 1), tok);
        assert.equal(await store.consumeJoinToken(tok.tokenHash, T0 + 2), null);
        assert.equal(await store.consumeJoinToken('b'.repeat(64), T0), null);
      });

      test('two concurrent consumes on two instances: exactly one wins', async (t) => {
        const { store, second } = await setup(t);
        const other = await second();
        for (let i = 0; i < 10; i++) {
          const tok = token({ id: `tok-${i}`, tokenHash: String(i).padStart(64, '0') });
          await store.createJoinToken(tok);
          const results = await Promise.all([store.consumeJoinToken(tok.tokenHash, T0), other.consumeJoinToken(tok.tokenHash, T0)]);
          assert.equal(results.filter((r) => r !== null).length, 1, `round ${i}`);
        }
      });

      test('an expired token is refused and pruned; a duplicate hash or id answers ALREADY_EXISTS', async (t) => {
        const { store } = await setup(t);
        await store.createJoinToken(token({ id: 'old', tokenHash: '1'.repeat(64), expiresAt: T0 + 10 }));
        await store.createJoinToken(token({ id: 'new', tokenHash: '2'.repeat(64), expiresAt: T0 + 100 }));
        assert.equal(await store.consumeJoinToken('1'.repeat(64), T0 + 10), null, 'expired at expiresAt');
        await rejectsWith(store.createJoinToken(token({ id: 'other', tokenHash: '2'.repeat(64) })), 'ERR_STORE_ALREADY_EXISTS', /hash/);
        await rejectsWith(store.createJoinToken(token({ id: 'new', tokenHash: '3'.repeat(64) })), 'ERR_STORE_ALREADY_EXISTS', /"new"/);
        assert.equal(await store.pruneJoinTokens(T0 + 50), 1);
        assert.equal(await store.pruneJoinTokens(T0 + 50), 0);
        assert.equal((await store.consumeJoinToken('2'.repeat(64), T0 + 50))?.id, 'new');
      });
    });

    describe('attested agents', () => {
      const agent = (serial: string) => ({
        spiffeId: AGENT,
        attestationType: 'join_token',
        selectors: [sel('join_token', 't1')],
        serialNumber: serial,
        expiresAt: T0 + 3600,
      });

      test('upsert creates, then replaces serial and expiry keeping createdAt; get and list find it', async (t) => {
        const { store } = await setup(t);
        const created = await store.upsertAgent(agent('01'), T0);
        assert.deepEqual(created, { ...agent('01'), banned: false, createdAt: T0, updatedAt: T0 });
        const renewed = await store.upsertAgent({ ...agent('02'), expiresAt: T0 + 7200 }, T0 + 60);
        assert.equal(renewed.serialNumber, '02');
        assert.equal(renewed.expiresAt, T0 + 7200);
        assert.equal(renewed.createdAt, T0);
        assert.equal(renewed.updatedAt, T0 + 60);
        assert.deepEqual(await store.getAgent(AGENT), renewed);
        assert.deepEqual(await store.listAgents(), [renewed]);
        assert.equal(await store.getAgent('spiffe://example.org/nobody'), null);
      });

      test('a ban is sticky: upsert answers ERR_STORE_AGENT_BANNED and leaves the record; evict removes it and re-attestation works', async (t) => {
        const { store } = await setup(t);
        await store.upsertAgent(agent('01'), T0);
        const banned = await store.banAgent(AGENT, T0 + 1);
        assert.equal(banned.banned, true);
        await rejectsWith(store.upsertAgent(agent('02'), T0 + 2), 'ERR_STORE_AGENT_BANNED', /banned/);
        assert.deepEqual(await store.getAgent(AGENT), banned);
        assert.deepEqual(await store.evictAgent(AGENT, T0 + 3), banned);
        assert.equal(await store.getAgent(AGENT), null);
        assert.equal((await store.upsertAgent(agent('03'), T0 + 4)).banned, false);
      });

      test('ban and evict of an unknown agent answer NOT_FOUND', async (t) => {
        const { store } = await setup(t);
        await rejectsWith(store.banAgent(AGENT, T0), 'ERR_STORE_NOT_FOUND');
        await rejectsWith(store.evictAgent(AGENT, T0), 'ERR_STORE_NOT_FOUND');
      });
    });

    describe('bundles', () => {
      test('put, replace, get, list and delete by trust domain', async (t) => {
        const { store } = await setup(t);
        const ours = await store.putBundle({ trustDomain: 'example.org', document: '{"keys":[]}', sequence: 1 }, T0);
        assert.deepEqual(ours, { trustDomain: 'example.org', document: '{"keys":[]}', sequence: 1, updatedAt: T0 });
        await store.putBundle({ trustDomain: 'other.org', document: '{"keys":[1]}', sequence: 7 }, T0);
        const replaced = await store.putBundle({ trustDomain: 'example.org', document: '{"keys":[2]}', sequence: 2 }, T0 + 5);
        assert.deepEqual(await store.getBundle('example.org'), replaced);
        assert.deepEqual((await store.listBundles()).map((b) => [b.trustDomain, b.sequence]), [['example.org', 2], ['other.org', 7]]);
        await store.deleteBundle('other.org', T0 + 6);
        assert.equal(await store.getBundle('other.org'), null);
        await rejectsWith(store.deleteBundle('other.org', T0 + 7), 'ERR_STORE_NOT_FOUND');
      });
    });

    describe('authorities', () => {
      const auth = (kind: 'x509' | 'jwt', authorityId: string, notAfter: number) => ({ kind, authorityId, publicData: `data-${authorityId}`, notAfter });

      test('publish replaces one replica’s whole set and leaves the others; list skips expired ones', async (t) => {
        const { store } = await setup(t);
        await store.publishAuthorities('r1', [auth('x509', 'a', T0 + 100), auth('jwt', 'k1', T0 + 100)], T0);
        await store.publishAuthorities('r2', [auth('x509', 'b', T0 + 100)], T0);
        const list = async (now: number) => (await store.listAuthorities(now)).map((a) => `${a.replicaId}/${a.kind}/${a.authorityId}`).sort();
        assert.deepEqual(await list(T0), ['r1/jwt/k1', 'r1/x509/a', 'r2/x509/b']);

        await store.publishAuthorities('r1', [auth('x509', 'a', T0 + 200), auth('x509', 'c', T0 + 50)], T0 + 1);
        assert.deepEqual(await list(T0 + 1), ['r1/x509/a', 'r1/x509/c', 'r2/x509/b']);
        const a = (await store.listAuthorities(T0 + 1)).find((x) => x.authorityId === 'a');
        assert.deepEqual(a, { replicaId: 'r1', kind: 'x509', authorityId: 'a', publicData: 'data-a', notAfter: T0 + 200, updatedAt: T0 + 1 });
        assert.deepEqual(await list(T0 + 50), ['r1/x509/a', 'r2/x509/b'], 'expired at notAfter');

        await store.publishAuthorities('r2', [], T0 + 2);
        assert.deepEqual(await list(T0 + 2), ['r1/x509/a', 'r1/x509/c']);
      });
    });

    describe('revocations', () => {
      test('add, list unexpired, prune expired; a duplicate id answers ALREADY_EXISTS', async (t) => {
        const { store } = await setup(t);
        const r1 = { id: 'rev-1', spiffeId: 'spiffe://example.org/web', serialNumber: '0a', reason: 'key leaked', expiresAt: T0 + 10, createdAt: T0 };
        const r2 = { id: 'rev-2', spiffeId: 'spiffe://example.org/api', serialNumber: null, reason: 'agent banned', expiresAt: T0 + 100, createdAt: T0 + 1 };
        await store.addRevocation(r1);
        await store.addRevocation(r2);
        await rejectsWith(store.addRevocation(r1), 'ERR_STORE_ALREADY_EXISTS');
        assert.deepEqual(await store.listRevocations(T0), [r1, r2]);
        assert.deepEqual(await store.listRevocations(T0 + 10), [r2]);
        assert.equal(await store.pruneRevocations(T0 + 10), 1);
        assert.equal(await store.pruneRevocations(T0 + 10), 0);
        assert.deepEqual(await store.listRevocations(0), [r2]);
      });
    });

    describe('policies', () => {
      test('put creates at revision 1 and bumps the revision on every put; delete removes one', async (t) => {
        const { store } = await setup(t);
        const created = await store.putPolicies(
          [
            { namespace: 'default', name: 'allow-web', document: 'v1' },
            { namespace: 'prod', name: 'deny-all', document: 'x' },
          ],
          T0,
        );
        assert.deepEqual(created.map((p) => p.revision), [1, 1]);
        const [again] = await store.putPolicies([{ namespace: 'default', name: 'allow-web', document: 'v2' }], T0 + 1);
        assert.deepEqual(again, { namespace: 'default', name: 'allow-web', document: 'v2', revision: 2, updatedAt: T0 + 1 });
        await store.putPolicies([{ namespace: 'default', name: 'allow-web', document: 'v3' }], T0 + 2);
        assert.deepEqual((await store.listPolicies()).map((p) => [p.namespace, p.name, p.revision, p.document]), [
          ['default', 'allow-web', 3, 'v3'],
          ['prod', 'deny-all', 1, 'x'],
        ]);
        await store.deletePolicy('prod', 'deny-all', T0 + 3);
        assert.deepEqual((await store.listPolicies()).map((p) => p.name), ['allow-web']);
        await rejectsWith(store.deletePolicy('prod', 'deny-all', T0 + 4), 'ERR_STORE_NOT_FOUND');
      });
    });

    describe('audit trail', () => {
      test('append keeps order with increasing ids; list pages by sinceId and limit; details round-trip', async (t) => {
        const { store } = await setup(t);
        for (let i = 0; i < 5; i++) {
          await store.appendAudit({
            time: T0 + i,
            actor: 'local-admin-socket',
            action: 'entry.create',
            target: `entry-${i}`,
            outcome: i === 3 ? 'denied' : 'success',
            detail: { i, nested: { ok: true } },
          });
        }
        const all = await store.listAudit();
        assert.deepEqual(all.map((r) => r.target), ['entry-0', 'entry-1', 'entry-2', 'entry-3', 'entry-4']);
        assert.ok(all.every((r, i) => i === 0 || r.id > all[i - 1]!.id));
        assert.deepEqual(all[3]!.detail, { i: 3, nested: { ok: true } });
        assert.equal(all[3]!.outcome, 'denied');
        const page = await store.listAudit({ sinceId: all[1]!.id, limit: 2 });
        assert.deepEqual(page.map((r) => r.target), ['entry-2', 'entry-3']);
        assert.equal(await store.latestChangeId(), 0, 'the audit trail is not in the change log');
      });
    });

    describe('change log', () => {
      test('every write appends exactly one change with its kind and key; refused writes append none', async (t) => {
        const { store } = await setup(t);
        const expectOne = async (write: () => Promise<unknown>, kind: string, key: string | RegExp) => {
          const before = await store.latestChangeId();
          await write();
          const changes = await store.changesSince(before);
          assert.equal(changes.length, 1, `${kind}: ${JSON.stringify(changes)}`);
          assert.equal(changes[0]!.kind, kind);
          if (typeof key === 'string') assert.equal(changes[0]!.key, key);
          else assert.match(changes[0]!.key, key);
          assert.equal(changes[0]!.id, await store.latestChangeId());
        };
        const expectNone = async (write: () => Promise<unknown>) => {
          const before = await store.latestChangeId();
          await write().catch(() => {});
          assert.equal(await store.latestChangeId(), before);
        };

        await expectOne(() => store.createEntries([newEntry({ id: 'e1' })], T0), 'entry', 'e1');
        await expectOne(() => store.updateEntry('e1', { hint: 'x' }, T0), 'entry', 'e1');
        await expectOne(() => store.deleteEntry('e1', T0), 'entry', 'e1');
        await expectOne(() => store.upsertAgent({ spiffeId: AGENT, attestationType: 'join_token', selectors: [], serialNumber: '1', expiresAt: T0 + 9 }, T0), 'agent', AGENT);
        await expectOne(() => store.banAgent(AGENT, T0), 'agent', AGENT);
        await expectOne(() => store.evictAgent(AGENT, T0), 'agent', AGENT);
        await expectOne(() => store.putBundle({ trustDomain: 'example.org', document: '{}', sequence: 1 }, T0), 'bundle', 'example.org');
        await expectOne(() => store.deleteBundle('example.org', T0), 'bundle', 'example.org');
        await expectOne(() => store.publishAuthorities('r1', [{ kind: 'jwt', authorityId: 'k', publicData: '{}', notAfter: T0 + 9 }], T0), 'authority', 'r1');
        await expectOne(() => store.addRevocation({ id: 'rv', spiffeId: 'spiffe://example.org/web', serialNumber: null, reason: 'r', expiresAt: T0 + 1, createdAt: T0 }), 'revocation', 'rv');
        await expectOne(() => store.pruneRevocations(T0 + 1), 'revocation', 'rv');
        await expectOne(() => store.putPolicies([{ namespace: 'ns', name: 'p', document: 'd' }], T0), 'policy', 'ns/p');
        await expectOne(() => store.deletePolicy('ns', 'p', T0), 'policy', 'ns/p');

        await store.createEntries([newEntry({ id: 'e2' })], T0);
        await expectNone(() => store.createEntries([newEntry({ id: 'e2' })], T0));
        await expectNone(() => store.deleteEntry('missing', T0));
        await expectNone(() => store.deletePolicy('ns', 'p', T0));
        await expectNone(() => store.createJoinToken(token()));
        await expectNone(() => store.consumeJoinToken(token().tokenHash, T0));
        await expectNone(() => store.pruneRevocations(T0 + 1));
      });

      test('a batch appends one change per entry; changesSince is ordered, pages with limit and starts after sinceId', async (t) => {
        const { store } = await setup(t);
        const created = await store.createEntries(
          Array.from({ length: 5 }, (_, i) => newEntry({ spiffeId: `spiffe://example.org/w${i}` })),
          T0,
        );
        await store.putBundle({ trustDomain: 'example.org', document: '{}', sequence: 1 }, T0 + 1);
        const all = await store.changesSince(0);
        assert.deepEqual(all.map((c) => c.key), [...created.map((e) => e.id), 'example.org']);
        assert.ok(all.every((c, i) => i === 0 || c.id > all[i - 1]!.id), 'ids increase');
        assert.equal(all[5]!.time, T0 + 1);
        assert.deepEqual(await store.changesSince(all[1]!.id, 2), all.slice(2, 4));
        assert.deepEqual(await store.changesSince(all[5]!.id), []);
        assert.equal(await store.latestChangeId(), all[5]!.id);
      });

      test('writes from two instances at once all land in the change log, each id once', async (t) => {
        const { store, second } = await setup(t);
        const other = await second();
        const writes = Array.from({ length: 40 }, (_, i) =>
          (i % 2 === 0 ? store : other).createEntries([newEntry({ spiffeId: `spiffe://example.org/c${i}` })], T0),
        );
        await Promise.all(writes);
        const changes = await other.changesSince(0);
        assert.equal(changes.length, 40);
        assert.equal(new Set(changes.map((c) => c.key)).size, 40);
      });
    });
  });
}
