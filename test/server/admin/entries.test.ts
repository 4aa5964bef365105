import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createAdminApp } from '../helpers/context.js';

const TD = 'example.org';
const PARENT = `spiffe://${TD}/meshward/agent/join_token/abc`;
const entry = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  spiffeId: `spiffe://${TD}/web`,
  parentId: PARENT,
  selectors: [{ type: 'unix', value: 'uid:1000' }],
  ...over,
});

test('batch create: each entry gets its own result; a duplicate is ERR_STORE_ALREADY_EXISTS and the rest are written', async (t) => {
  const a = await createAdminApp(t);
  const first = await a.call({ method: 'POST', url: '/v1/entries', payload: { entries: [entry()] } });
  assert.equal(first.statusCode, 200);
  const created = first.json().results[0];
  assert.equal(created.status, 'ok');
  assert.equal(created.entry.spiffeId, `spiffe://${TD}/web`);
  assert.deepEqual(
    Object.keys(created.entry).sort(),
    ['admin', 'createdAt', 'dnsNames', 'expiresAt', 'federatesWith', 'hint', 'id', 'jwtSvidTtl', 'labels', 'parentId', 'revision', 'selectors', 'spiffeId', 'updatedAt', 'x509SvidTtl'],
  );

  const batch = await a.call({
    method: 'POST',
    url: '/v1/entries',
    payload: { entries: [entry({ spiffeId: `spiffe://${TD}/api` }), entry(), entry({ spiffeId: `spiffe://${TD}/db`, x509SvidTtl: 600, dnsNames: ['db.example.org'], labels: { team: 'data' }, federatesWith: ['other.org'], hint: 'db', admin: true })] },
  });
  assert.equal(batch.statusCode, 200);
  const results = batch.json().results;
  assert.deepEqual(results.map((r: { status: string }) => r.status), ['ok', 'error', 'ok']);
  assert.equal(results[1].error.code, 'ERR_STORE_ALREADY_EXISTS');
  assert.equal(results[2].entry.x509SvidTtl, 600);
  assert.deepEqual(results[2].entry.labels, { team: 'data' });
  assert.equal((await a.store.listEntries()).length, 3);
});

test('a large batch is written whole (chunks) and a conflict inside a chunk only fails that entry', async (t) => {
  const a = await createAdminApp(t);
  await a.call({ method: 'POST', url: '/v1/entries', payload: { entries: [entry({ spiffeId: `spiffe://${TD}/svc/250` })] } });
  const entries = Array.from({ length: 500 }, (_, i) => entry({ spiffeId: `spiffe://${TD}/svc/${i}` }));
  const res = await a.call({ method: 'POST', url: '/v1/entries', payload: { entries } });
  const results = res.json().results as Array<{ status: string; entry?: { spiffeId: string } }>;
  assert.equal(results.length, 500);
  assert.equal(results.filter((r) => r.status === 'error').length, 1);
  assert.equal(results[250]!.status, 'error');
  assert.equal(results[499]!.entry!.spiffeId, `spiffe://${TD}/svc/499`, 'results keep the request order');
  assert.equal((await a.store.listEntries()).length, 500);
});

const INVALID: Array<[string, Record<string, unknown>, string]> = [
  ['spiffeId not a SPIFFE ID', { spiffeId: 'https://example.org/web' }, 'entries[1].spiffeId'],
  ['spiffeId in another trust domain', { spiffeId: 'spiffe://other.org/web' }, 'entries[1].spiffeId'],
  ['spiffeId without a path', { spiffeId: `spiffe://${TD}` }, 'entries[1].spiffeId'],
  ['spiffeId in the reserved namespace', { spiffeId: `spiffe://${TD}/meshward/server` }, 'entries[1].spiffeId'],
  ['parentId in another trust domain', { parentId: 'spiffe://other.org/agent' }, 'entries[1].parentId'],
  ['parentId missing', { parentId: undefined }, 'entries[1].parentId'],
  ['no selectors', { selectors: [] }, 'entries[1].selectors'],
  ['empty selector type', { selectors: [{ type: 'unix', value: 'a' }, { type: '', value: 'x' }] }, 'entries[1].selectors[1]'],
  ['uppercase selector type', { selectors: [{ type: 'Unix', value: 'x' }] }, 'entries[1].selectors[0]'],
  ['empty selector value', { selectors: [{ type: 'unix', value: 'a' }, { type: 'unix', value: '' }] }, 'entries[1].selectors[1]'],
  ['NUL in a selector value', { selectors: [{ type: 'unix', value: 'a' }, { type: 'unix', value: 'uid:\u00001' }] }, 'entries[1].selectors[1]'],
  ['selector value over 1024 bytes', { selectors: [{ type: 'unix', value: 'é'.repeat(513) }] }, 'entries[1].selectors[0]'],
  ['duplicate selector', { selectors: [{ type: 'unix', value: 'a' }, { type: 'unix', value: 'a' }] }, 'entries[1].selectors[1]'],
  ['selector as a string', { selectors: ['unix:uid:1'] }, 'entries[1].selectors[0]'],
  ['negative TTL', { x509SvidTtl: -1 }, 'entries[1].x509SvidTtl'],
  ['fractional TTL', { jwtSvidTtl: 1.5 }, 'entries[1].jwtSvidTtl'],
  ['TTL over a year', { x509SvidTtl: 365 * 86400 + 1 }, 'entries[1].x509SvidTtl'],
  ['TTL as a string', { x509SvidTtl: '60' }, 'entries[1].x509SvidTtl'],
  ['bad DNS name', { dnsNames: ['ok.example.org', 'bad_name!'] }, 'entries[1].dnsNames[1]'],
  ['federatesWith a SPIFFE ID', { federatesWith: ['spiffe://other.org'] }, 'entries[1].federatesWith[0]'],
  ['federatesWith our own trust domain', { federatesWith: [TD] }, 'entries[1].federatesWith[0]'],
  ['bad label key', { labels: { 'bad key': 'v' } }, 'entries[1].labels.bad key'],
  ['label value with a control character', { labels: { k: 'a\nb' } }, 'entries[1].labels.k'],
  ['hint over 1024 bytes', { hint: 'h'.repeat(1025) }, 'entries[1].hint'],
  ['admin not a boolean', { admin: 'yes' }, 'entries[1].admin'],
  ['unknown field', { downstream: true }, 'entries[1].downstream'],
  ['expiresAt negative', { expiresAt: -5 }, 'entries[1].expiresAt'],
  ['own parent', { parentId: `spiffe://${TD}/web` }, 'entries[1].parentId'],
];

for (const [name, over, field] of INVALID) {
  test(`invalid entry (${name}): 400 naming ${field}, nothing written`, async (t) => {
    const a = await createAdminApp(t);
    const bad = entry(over);
    for (const key of Object.keys(over)) if (over[key] === undefined) delete bad[key];
    const res = await a.call({ method: 'POST', url: '/v1/entries', payload: { entries: [entry({ spiffeId: `spiffe://${TD}/fine` }), bad] } });
    assert.equal(res.statusCode, 400, res.body);
    const { error } = res.json();
    assert.equal(error.field, field);
    assert.match(error.code, /^ERR_ADMIN_/);
    assert.ok(error.message.startsWith(field), error.message);
    assert.equal((await a.store.listEntries()).length, 0, 'the valid entry of the batch was not written either');
  });
}

test('malformed bodies: 400, nothing written', async (t) => {
  const a = await createAdminApp(t);
  for (const payload of ['{"entries": [', '[]', '{"entries": {}}', '{"entries": [], "extra": 1}', '{"__proto__": {"x": 1}, "entries": []}']) {
    const res = await a.call({ method: 'POST', url: '/v1/entries', payload, headers: { 'content-type': 'application/json' } });
    assert.equal(res.statusCode, 400, `${payload}: ${res.body}`);
    assert.ok(res.json().error.code.startsWith('ERR_ADMIN_'));
  }
  assert.equal((await a.store.listEntries()).length, 0);
});

test('list with filters, show, update, delete', async (t) => {
  const a = await createAdminApp(t);
  const res = await a.call({
    method: 'POST',
    url: '/v1/entries',
    payload: {
      entries: [
        entry(),
        entry({ spiffeId: `spiffe://${TD}/api`, selectors: [{ type: 'unix', value: 'uid:1000' }, { type: 'unix', value: 'gid:50' }] }),
        entry({ spiffeId: `spiffe://${TD}/db`, parentId: `spiffe://${TD}/other-agent`, selectors: [{ type: 'unix', value: 'uid:2000' }] }),
      ],
    },
  });
  const ids = res.json().results.map((r: { entry: { id: string } }) => r.entry.id) as string[];

  const all = await a.call({ method: 'GET', url: '/v1/entries' });
  assert.equal(all.json().entries.length, 3);
  const byParent = await a.call({ method: 'GET', url: `/v1/entries?parentId=${encodeURIComponent(PARENT)}` });
  assert.equal(byParent.json().entries.length, 2);
  const byId = await a.call({ method: 'GET', url: `/v1/entries?spiffeId=${encodeURIComponent(`spiffe://${TD}/db`)}` });
  assert.deepEqual(byId.json().entries.map((e: { id: string }) => e.id), [ids[2]]);
  const bySelectors = await a.call({ method: 'GET', url: '/v1/entries?selector=unix:uid:1000&selector=unix:gid:50' });
  assert.deepEqual(bySelectors.json().entries.map((e: { id: string }) => e.id), [ids[1]]);
  const badFilter = await a.call({ method: 'GET', url: '/v1/entries?selector=nocolon' });
  assert.equal(badFilter.json().error.field, 'selector[0]');
  const unknownParam = await a.call({ method: 'GET', url: '/v1/entries?spiffeID=x' });
  assert.equal(unknownParam.statusCode, 400);
  assert.equal(unknownParam.json().error.field, 'spiffeID');

  const shown = await a.call({ method: 'GET', url: `/v1/entries/${ids[0]}` });
  assert.equal(shown.json().id, ids[0]);
  assert.equal((await a.call({ method: 'GET', url: '/v1/entries/no-such-entry' })).statusCode, 404);

  const updated = await a.call({ method: 'PATCH', url: `/v1/entries/${ids[0]}`, payload: { x509SvidTtl: 120, labels: { tier: 'front' } } });
  assert.equal(updated.statusCode, 200, updated.body);
  assert.equal(updated.json().x509SvidTtl, 120);
  assert.equal(updated.json().revision, 2);
  const badUpdate = await a.call({ method: 'PATCH', url: `/v1/entries/${ids[0]}`, payload: { selectors: [{ type: 'unix', value: 'a\u0007' }] } });
  assert.equal(badUpdate.statusCode, 400);
  assert.equal(badUpdate.json().error.field, 'selectors[0]');
  const idChange = await a.call({ method: 'PATCH', url: `/v1/entries/${ids[0]}`, payload: { id: 'other' } });
  assert.equal(idChange.json().error.field, 'id');
  assert.equal((await a.store.getEntry(ids[0]!))!.revision, 2, 'refused updates changed nothing');
  const conflict = await a.call({ method: 'PATCH', url: `/v1/entries/${ids[0]}`, payload: { spiffeId: `spiffe://${TD}/api`, selectors: [{ type: 'unix', value: 'gid:50' }, { type: 'unix', value: 'uid:1000' }] } });
  assert.equal(conflict.statusCode, 409);
  assert.equal(conflict.json().error.code, 'ERR_STORE_ALREADY_EXISTS');
  assert.equal((await a.call({ method: 'PATCH', url: '/v1/entries/missing', payload: { hint: 'x' } })).statusCode, 404);

  const deleted = await a.call({ method: 'DELETE', url: `/v1/entries/${ids[0]}` });
  assert.equal(deleted.json().id, ids[0]);
  assert.equal((await a.call({ method: 'DELETE', url: `/v1/entries/${ids[0]}` })).statusCode, 404);
  assert.equal((await a.store.listEntries()).length, 2);
});

test('a given entry ID is kept; a second entry with that ID is ERR_STORE_ALREADY_EXISTS', async (t) => {
  const a = await createAdminApp(t);
  const res = await a.call({ method: 'POST', url: '/v1/entries', payload: { entries: [entry({ id: 'web-1' }), entry({ id: 'web-1', spiffeId: `spiffe://${TD}/x` })] } });
  const results = res.json().results;
  assert.equal(results[0].entry.id, 'web-1');
  assert.equal(results[1].error.code, 'ERR_STORE_ALREADY_EXISTS');
});
