import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createAdminApp } from '../helpers/context.js';

const TD = 'example.org';
const ADMIN = `spiffe://${TD}/ops/admin`;
const ENTRY_ADMIN = `spiffe://${TD}/ops/entry-admin`;
const WORKLOAD = `spiffe://${TD}/web`;

test('anonymous callers get 401 and non-admin SVIDs 403, both audited, nothing written', async (t) => {
  const a = await createAdminApp(t, { adminIds: [ADMIN] });
  const body = { entries: [{ spiffeId: `spiffe://${TD}/x`, parentId: `spiffe://${TD}/agent`, selectors: [{ type: 'unix', value: 'uid:1' }] }] };
  const anon = await a.call({ method: 'POST', url: '/v1/entries', payload: body, caller: 'anonymous' });
  assert.equal(anon.statusCode, 401);
  assert.equal(anon.json().error.code, 'ERR_ADMIN_UNAUTHENTICATED');
  const workload = await a.call({ method: 'POST', url: '/v1/entries', payload: body, caller: `svid:${WORKLOAD}` });
  assert.equal(workload.statusCode, 403);
  assert.equal(workload.json().error.code, 'ERR_ADMIN_FORBIDDEN');
  const tokens = await a.call({ method: 'POST', url: '/v1/join-tokens', payload: {}, caller: `svid:${WORKLOAD}` });
  assert.equal(tokens.statusCode, 403);
  assert.equal((await a.store.listEntries()).length, 0);

  const records = await a.store.listAudit();
  assert.deepEqual(
    records.map((r) => [r.actor, r.action, r.outcome]),
    [
      ['anonymous:127.0.0.1', 'entry.create', 'denied'],
      [WORKLOAD, 'entry.create', 'denied'],
      [WORKLOAD, 'join_token.create', 'denied'],
    ],
  );
});

test('a configured admin ID and an SVID of an entry with admin: true are allowed', async (t) => {
  const a = await createAdminApp(t, { adminIds: [ADMIN] });
  assert.equal((await a.call({ method: 'GET', url: '/v1/entries', caller: `svid:${ADMIN}` })).statusCode, 200);
  assert.equal((await a.call({ method: 'GET', url: '/v1/entries', caller: `svid:${ENTRY_ADMIN}` })).statusCode, 403);
  await a.call({
    method: 'POST',
    url: '/v1/entries',
    payload: { entries: [{ spiffeId: ENTRY_ADMIN, parentId: `spiffe://${TD}/agent`, selectors: [{ type: 'unix', value: 'uid:0' }], admin: true }] },
  });
  assert.equal((await a.call({ method: 'GET', url: '/v1/entries', caller: `svid:${ENTRY_ADMIN}` })).statusCode, 200);
  const records = await a.store.listAudit();
  assert.ok(records.some((r) => r.actor === ENTRY_ADMIN && r.action === 'entry.list' && r.outcome === 'success'));
});

test('an expired admin entry no longer makes its SVID an admin', async (t) => {
  const a = await createAdminApp(t);
  const past = Math.floor(Date.now() / 1000) - 10;
  await a.call({
    method: 'POST',
    url: '/v1/entries',
    payload: { entries: [{ spiffeId: ENTRY_ADMIN, parentId: `spiffe://${TD}/agent`, selectors: [{ type: 'unix', value: 'uid:0' }], admin: true, expiresAt: past }] },
  });
  assert.equal((await a.call({ method: 'GET', url: '/v1/agents', caller: `svid:${ENTRY_ADMIN}` })).statusCode, 403);
});

test('authorization comes before the body is read: an anonymous malformed body is 401, not 400', async (t) => {
  const a = await createAdminApp(t);
  const res = await a.call({ method: 'POST', url: '/v1/entries', payload: '{not json', headers: { 'content-type': 'application/json' }, caller: 'anonymous' });
  assert.equal(res.statusCode, 401);
});

test('audit records hold no token, key or CSR', async (t) => {
  const a = await createAdminApp(t);
  const token = (await a.call({ method: 'POST', url: '/v1/join-tokens', payload: {} })).json().token as string;
  const jwt = (await a.call({ method: 'POST', url: '/v1/jwt/mint', payload: { spiffeId: WORKLOAD, audience: ['db'] } })).json().token as string;
  const audit = await a.call({ method: 'GET', url: '/v1/audit' });
  const text = audit.body;
  assert.ok(!text.includes(token), 'no join token');
  assert.ok(!text.includes(jwt.split('.')[2]!), 'no JWT');
  assert.ok(!text.includes('BEGIN'), 'no PEM');
  const records = audit.json().records as Array<{ action: string }>;
  assert.deepEqual(records.map((r) => r.action), ['join_token.create', 'jwt.mint']);
  const paged = await a.call({ method: 'GET', url: '/v1/audit?sinceId=1&limit=1' });
  assert.deepEqual(paged.json().records.map((r: { action: string }) => r.action), ['jwt.mint']);
  assert.equal((await a.call({ method: 'GET', url: '/v1/audit?limit=0' })).json().error.field, 'limit');
  assert.equal((await a.call({ method: 'GET', url: '/v1/audit?limit=abc' })).json().error.field, 'limit');
});
