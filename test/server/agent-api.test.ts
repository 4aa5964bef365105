/**
 * The agent API over real sockets and real TLS, on a real server with SQLite:
 * attestation, renewal, the entries an agent serves, signing (and the
 * CVE-2021-27098 refusal), JWT-SVIDs, bans, replaced serials, revocations,
 * bad input, and hostile TLS clients.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CertificateAuthority } from '../../src/ca/index.js';
import { Bundle } from '../../src/spiffe/bundle.js';
import { JwtSvid } from '../../src/spiffe/jwt/index.js';
import { verifyX509Svid } from '../../src/spiffe/x509/verify.js';
import { newJoinTokenSecret } from '../../src/server/admin/join-tokens.js';
import { X509Svid } from '../../src/spiffe/x509/x509-svid.js';
import {
  adminCall,
  anonymousDispatcher,
  attest,
  call,
  createEntries,
  csrPem,
  joinToken,
  newKey,
  startTestServer,
  svidDispatcher,
  TD,
} from './support/runtime.js';

const pkcs8 = (k: ReturnType<typeof newKey>): string => k.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;

test('attestation: a join token and a CSR give an agent SVID; the token works once', async (t) => {
  const server = await startTestServer(t);
  const { token, id } = await joinToken(server);
  // hex, so never read as a flag: `--join-token -…` would be (base64url starts with '-' once in 64)
  assert.match(token, /^[0-9a-f]{64}$/);
  const anon = anonymousDispatcher(server.ctx.ca.bundle());
  t.after(() => anon.close());
  const key = newKey();
  const r = await call(server, anon, 'POST', '/agent/v1/attest', { joinToken: token, csr: csrPem(key) });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.spiffeId, `spiffe://${TD}/meshward/agent/join_token/${id}`);
  const svid = X509Svid.parse(r.body.chainPem, pkcs8(key));
  const bundle = Bundle.parse(JSON.stringify(r.body.bundle), TD);
  assert.equal(verifyX509Svid(svid.certificates, bundle).id.toString(), r.body.spiffeId);
  const agent = await server.ctx.store.getAgent(r.body.spiffeId);
  assert.ok(agent);
  assert.deepEqual(agent.selectors, [{ type: 'join_token', value: id }]);
  assert.equal(agent.attestationType, 'join_token');

  const again = await call(server, anon, 'POST', '/agent/v1/attest', { joinToken: token, csr: csrPem() });
  assert.equal(again.status, 409);
  assert.equal(again.body.error.code, 'ERR_SERVER_JOIN_TOKEN_INVALID');

  const audit = await server.ctx.store.listAudit();
  const attests = audit.filter((a) => a.action === 'agent.attest');
  assert.deepEqual(attests.map((a) => a.outcome), ['success', 'denied']);
  assert.ok(!JSON.stringify(audit).includes(token), 'the audit trail never holds the token');
});

test('attestation: a malformed CSR is a 400 naming csr, and the token survives', async (t) => {
  const server = await startTestServer(t, { flags: { 'rate_limits.attestation_per_second': '100' } });
  const { token } = await joinToken(server);
  const anon = anonymousDispatcher(server.ctx.ca.bundle());
  t.after(() => anon.close());
  const bad = await call(server, anon, 'POST', '/agent/v1/attest', { joinToken: token, csr: '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n' });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.field, 'csr');
  const missing = await call(server, anon, 'POST', '/agent/v1/attest', { csr: csrPem() });
  assert.equal(missing.status, 400);
  assert.equal(missing.body.error.field, 'joinToken');
  const json = await call(server, anon, 'POST', '/agent/v1/attest', undefined, '{"joinToken": ');
  assert.equal(json.status, 400);
  assert.equal(json.body.error.code, 'ERR_SERVER_BAD_REQUEST');
  const extra = await call(server, anon, 'POST', '/agent/v1/attest', { joinToken: token, csr: csrPem(), admin: true });
  assert.equal(extra.status, 400);
  assert.equal(extra.body.error.field, 'admin');
  const ok = await attest(server, { token });
  assert.match(ok.id, /join_token/);
  await ok.dispatcher.close();
});

test('attestation is rate limited per source IP (429 with retry-after)', async (t) => {
  const server = await startTestServer(t);
  const anon = anonymousDispatcher(server.ctx.ca.bundle());
  t.after(() => anon.close());
  const statuses: number[] = [];
  let retryAfter: unknown;
  for (let i = 0; i < 4; i++) {
    const r = await call(server, anon, 'POST', '/agent/v1/attest', { joinToken: `nope-${i}`, csr: csrPem() });
    statuses.push(r.status);
    if (r.status === 429) retryAfter = r.headers['retry-after'];
  }
  assert.deepEqual(statuses.slice(0, 2), [409, 409]);
  assert.ok(statuses.slice(2).includes(429), `statuses ${statuses.join(',')}`);
  assert.equal(retryAfter, '1');
});

test('renewal: a new SVID; the old serial is refused at once', async (t) => {
  const server = await startTestServer(t);
  const agent = await attest(server);
  t.after(() => agent.dispatcher.close());
  const key = newKey();
  const r = await call(server, agent.dispatcher, 'POST', '/agent/v1/renew', { csr: csrPem(key) });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.spiffeId, agent.id);
  const renewed = X509Svid.parse(r.body.chainPem, pkcs8(key));
  assert.ok(renewed.expiresAt.getTime() > Date.now());

  // The old SVID, on a new connection: replaced.
  const old = svidDispatcher(agent.svid, server.ctx.ca.bundle());
  t.after(() => old.close());
  const refused = await call(server, old, 'GET', '/agent/v1/entries');
  assert.equal(refused.status, 403);
  assert.equal(refused.body.error.code, 'ERR_SERVER_SVID_REPLACED');
  // The old connection too (the serial is checked on every request).
  const refusedToo = await call(server, agent.dispatcher, 'GET', '/agent/v1/entries');
  assert.equal(refusedToo.status, 403);

  const fresh = svidDispatcher(renewed, server.ctx.ca.bundle());
  t.after(() => fresh.close());
  assert.equal((await call(server, fresh, 'GET', '/agent/v1/entries')).status, 200);
});

test('entries: by parent, through a node alias, recursively; expired and foreign ones left out', async (t) => {
  const server = await startTestServer(t);
  const alias = `spiffe://${TD}/nodes/rack-1`;
  const agent = await attest(server, { alias });
  const other = await attest(server);
  t.after(() => agent.dispatcher.close());
  t.after(() => other.dispatcher.close());
  const [direct, viaAlias, child, grandchild, expired, foreign] = await createEntries(server, [
    { spiffeId: `spiffe://${TD}/direct`, parentId: agent.id },
    { spiffeId: `spiffe://${TD}/via-alias`, parentId: alias },
    { spiffeId: `spiffe://${TD}/child`, parentId: `spiffe://${TD}/direct` },
    { spiffeId: `spiffe://${TD}/grandchild`, parentId: `spiffe://${TD}/child` },
    { spiffeId: `spiffe://${TD}/expired`, parentId: agent.id, expiresAt: Math.floor(Date.now() / 1000) + 1 },
    { spiffeId: `spiffe://${TD}/foreign`, parentId: other.id },
  ]);
  // A cycle must not hang anything.
  await createEntries(server, [{ spiffeId: `spiffe://${TD}/direct`, parentId: `spiffe://${TD}/grandchild` }]);
  const r = await call(server, agent.dispatcher, 'GET', '/agent/v1/entries');
  assert.equal(r.status, 200);
  const ids = new Set(r.body.entries.map((e: { id: string }) => e.id));
  for (const e of [direct, viaAlias, child, grandchild]) assert.ok(ids.has(e!.id), `${e!.spiffeId} served`);
  assert.ok(!ids.has(foreign!.id));
  const aliasEntries = r.body.entries.filter((e: { parentId: string }) => e.parentId === `spiffe://${TD}/meshward/server`);
  assert.equal(aliasEntries.length, 0, 'alias entries themselves are not served');
  // Entry shape of the contract.
  const shown = r.body.entries.find((e: { id: string }) => e.id === direct!.id);
  for (const k of ['id', 'spiffeId', 'parentId', 'selectors', 'x509SvidTtl', 'jwtSvidTtl', 'dnsNames', 'admin', 'federatesWith', 'labels', 'hint', 'expiresAt', 'revision', 'createdAt', 'updatedAt']) assert.ok(k in shown, k);
  // Once expired, left out.
  const later = server.internals.entries.authorizedEntriesOf(agent.id).map((e) => e.id);
  assert.ok(later.includes(expired!.id));
  await new Promise((r) => setTimeout(r, 2100));
  assert.ok(!server.internals.entries.authorizedEntriesOf(agent.id).map((e) => e.id).includes(expired!.id));
});

test('sign: SVIDs for authorized entries verify against the bundle; TTL from the entry', async (t) => {
  const server = await startTestServer(t);
  const agent = await attest(server);
  t.after(() => agent.dispatcher.close());
  const [a, b] = await createEntries(server, [
    { spiffeId: `spiffe://${TD}/web`, parentId: agent.id, x509SvidTtl: 600, dnsNames: ['web.example.org'] },
    { spiffeId: `spiffe://${TD}/db`, parentId: agent.id },
  ]);
  const ka = newKey();
  const kb = newKey();
  const r = await call(server, agent.dispatcher, 'POST', '/agent/v1/sign', { requests: [{ entryId: a!.id, csr: csrPem(ka) }, { entryId: b!.id, csr: csrPem(kb) }] });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.svids.length, 2);
  const bundle = server.ctx.ca.bundle();
  const [sa, sb] = r.body.svids;
  assert.equal(verifyX509Svid(X509Svid.parse(sa.chainPem, pkcs8(ka)).certificates, bundle).id.toString(), `spiffe://${TD}/web`);
  assert.equal(verifyX509Svid(X509Svid.parse(sb.chainPem, pkcs8(kb)).certificates, bundle).id.toString(), `spiffe://${TD}/db`);
  const now = Date.now() / 1000;
  assert.ok(Math.abs(sa.expiresAt - now - 600) < 5, 'entry TTL');
  assert.ok(Math.abs(sb.expiresAt - now - 3600) < 5, 'default TTL');
  assert.match(sa.serialNumber, /^[0-9a-f]+$/);
  // Signing successes are coalesced per agent and second, written every 250 ms.
  await server.internals.audit.flush();
  const audit = (await server.ctx.store.listAudit()).filter((x) => x.action === 'svid.sign');
  assert.equal(audit.length, 1);
  assert.equal(audit[0]!.outcome, 'success');
  assert.equal(audit[0]!.actor, agent.id);
  assert.equal(audit[0]!.detail.count, 2);
  assert.deepEqual(audit[0]!.detail.serialNumbers, [sa.serialNumber, sb.serialNumber]);
  assert.ok(!JSON.stringify(audit).includes('CERTIFICATE REQUEST'), 'no CSR in the audit trail');
});

test('sign: one entry the agent may not serve refuses the whole batch, audited as denied (CVE-2021-27098)', async (t) => {
  const server = await startTestServer(t);
  const agent = await attest(server);
  const other = await attest(server);
  t.after(() => agent.dispatcher.close());
  t.after(() => other.dispatcher.close());
  const [mine, theirs] = await createEntries(server, [
    { spiffeId: `spiffe://${TD}/mine`, parentId: agent.id },
    { spiffeId: `spiffe://${TD}/theirs`, parentId: other.id },
  ]);
  const r = await call(server, agent.dispatcher, 'POST', '/agent/v1/sign', { requests: [{ entryId: mine!.id, csr: csrPem() }, { entryId: theirs!.id, csr: csrPem() }] });
  assert.equal(r.status, 403);
  assert.equal(r.body.error.code, 'ERR_SERVER_PERMISSION_DENIED');
  assert.equal(r.body.svids, undefined);
  const unknown = await call(server, agent.dispatcher, 'POST', '/agent/v1/sign', { requests: [{ entryId: 'no-such-entry', csr: csrPem() }] });
  assert.equal(unknown.status, 403);
  const jwt = await call(server, agent.dispatcher, 'POST', '/agent/v1/jwt', { entryId: theirs!.id, audience: ['x'] });
  assert.equal(jwt.status, 403);
  const denied = (await server.ctx.store.listAudit()).filter((x) => x.outcome === 'denied' && x.action.startsWith('svid.'));
  assert.equal(denied.length, 3);
  assert.equal(denied[0]!.actor, agent.id);
  assert.deepEqual(denied[0]!.detail.refusedEntryIds, [theirs!.id]);
});

test('sign: bad input is a 400 naming the field', async (t) => {
  const server = await startTestServer(t);
  const agent = await attest(server);
  t.after(() => agent.dispatcher.close());
  const [e] = await createEntries(server, [{ spiffeId: `spiffe://${TD}/web`, parentId: agent.id }]);
  const cases: Array<[unknown, string]> = [
    [{}, 'requests'],
    [{ requests: [] }, 'requests'],
    [{ requests: [{ entryId: e!.id }] }, 'requests[0].csr'],
    [{ requests: [{ entryId: e!.id, csr: csrPem() }, { entryId: e!.id, csr: 'garbage' }] }, 'requests[1].csr'],
    [{ requests: [{ entryId: 7, csr: csrPem() }] }, 'requests[0].entryId'],
  ];
  for (const [body, field] of cases) {
    const r = await call(server, agent.dispatcher, 'POST', '/agent/v1/sign', body);
    assert.equal(r.status, 400, `${JSON.stringify(body).slice(0, 80)}: ${r.text}`);
    assert.equal(r.body.error.field, field);
  }
});

test('jwt: a JWT-SVID for an authorized entry validates against the bundle', async (t) => {
  const server = await startTestServer(t);
  const agent = await attest(server);
  t.after(() => agent.dispatcher.close());
  const [e] = await createEntries(server, [{ spiffeId: `spiffe://${TD}/web`, parentId: agent.id, jwtSvidTtl: 120 }]);
  const r = await call(server, agent.dispatcher, 'POST', '/agent/v1/jwt', { entryId: e!.id, audience: ['payments'] });
  assert.equal(r.status, 200, r.text);
  const svid = JwtSvid.parseAndValidate(r.body.token, server.ctx.ca.bundle(), ['payments']);
  assert.equal(svid.id.toString(), `spiffe://${TD}/web`);
  assert.ok(Math.abs(r.body.expiresAt - Date.now() / 1000 - 120) < 5);
  const bad = await call(server, agent.dispatcher, 'POST', '/agent/v1/jwt', { entryId: e!.id, audience: [] });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.field, 'audience');
});

test('bundles, policies and revocations are served to agents', async (t) => {
  const server = await startTestServer(t);
  const agent = await attest(server);
  t.after(() => agent.dispatcher.close());
  const b = await call(server, agent.dispatcher, 'GET', '/agent/v1/bundles');
  assert.equal(b.status, 200);
  assert.equal(b.body.trustDomain, TD);
  assert.ok(Bundle.parse(JSON.stringify(b.body.bundle), TD).x509Authorities().length >= 1);
  assert.deepEqual(b.body.federated, {});
  const p = await call(server, agent.dispatcher, 'GET', '/agent/v1/policies');
  assert.equal(p.status, 200);
  assert.deepEqual(p.body.policies, []);
  assert.equal(typeof p.body.revision, 'string');
  const v = await call(server, agent.dispatcher, 'GET', '/agent/v1/revocations');
  assert.equal(v.status, 200);
  assert.deepEqual(v.body.revocations, []);
});

test('a banned agent is refused at once; an evicted one too', async (t) => {
  const server = await startTestServer(t);
  const agent = await attest(server);
  const agent2 = await attest(server);
  t.after(() => agent.dispatcher.close());
  t.after(() => agent2.dispatcher.close());
  const [e] = await createEntries(server, [{ spiffeId: `spiffe://${TD}/web`, parentId: agent.id }]);
  assert.equal((await call(server, agent.dispatcher, 'GET', '/agent/v1/entries')).status, 200);
  const ban = await adminCall(server, 'POST', '/v1/agents/ban', { spiffeId: agent.id });
  assert.equal(ban.status, 200, ban.text);
  const r = await call(server, agent.dispatcher, 'POST', '/agent/v1/sign', { requests: [{ entryId: e!.id, csr: csrPem() }] });
  assert.equal(r.status, 403);
  assert.equal(r.body.error.code, 'ERR_SERVER_AGENT_BANNED');
  const renew = await call(server, agent.dispatcher, 'POST', '/agent/v1/renew', { csr: csrPem() });
  assert.equal(renew.status, 403);
  const evict = await adminCall(server, 'POST', '/v1/agents/evict', { spiffeId: agent2.id });
  assert.equal(evict.status, 200, evict.text);
  const r2 = await call(server, agent2.dispatcher, 'GET', '/agent/v1/entries');
  assert.equal(r2.status, 403);
  assert.equal(r2.body.error.code, 'ERR_SERVER_AGENT_UNKNOWN');
});

test('a revoked SPIFFE ID gets no new SVIDs; a deleted entry neither', async (t) => {
  const server = await startTestServer(t);
  const agent = await attest(server);
  t.after(() => agent.dispatcher.close());
  const [web, db] = await createEntries(server, [
    { spiffeId: `spiffe://${TD}/web`, parentId: agent.id },
    { spiffeId: `spiffe://${TD}/db`, parentId: agent.id },
  ]);
  const ok = await call(server, agent.dispatcher, 'POST', '/agent/v1/sign', { requests: [{ entryId: web!.id, csr: csrPem() }] });
  assert.equal(ok.status, 200);
  // Revocation recorded directly (the admin `revoke` also deletes the entries; here the entry stays, and still no SVID).
  await server.ctx.store.addRevocation({ id: 'rev-1', spiffeId: `spiffe://${TD}/web`, serialNumber: ok.body.svids[0].serialNumber, reason: 'leaked', expiresAt: Math.floor(Date.now() / 1000) + 3600, createdAt: Math.floor(Date.now() / 1000) });
  const refused = await call(server, agent.dispatcher, 'POST', '/agent/v1/sign', { requests: [{ entryId: web!.id, csr: csrPem() }] });
  assert.equal(refused.status, 403);
  assert.equal(refused.body.error.code, 'ERR_SERVER_REVOKED');
  const jwt = await call(server, agent.dispatcher, 'POST', '/agent/v1/jwt', { entryId: web!.id, audience: ['a'] });
  assert.equal(jwt.status, 403);
  const list = await call(server, agent.dispatcher, 'GET', '/agent/v1/revocations');
  assert.equal(list.body.revocations[0].spiffeId, `spiffe://${TD}/web`);
  assert.equal(list.body.revocations[0].serialNumber, ok.body.svids[0].serialNumber);

  const del = await adminCall(server, 'DELETE', `/v1/entries/${db!.id}`);
  assert.equal(del.status, 200, del.text);
  const gone = await call(server, agent.dispatcher, 'POST', '/agent/v1/sign', { requests: [{ entryId: db!.id, csr: csrPem() }] });
  assert.equal(gone.status, 403);

  // The admin revoke of an agent ID bans it.
  const rv = await adminCall(server, 'POST', '/v1/revoke', { spiffeId: agent.id, reason: 'host compromised' });
  assert.equal(rv.status, 200, rv.text);
  const after = await call(server, agent.dispatcher, 'GET', '/agent/v1/entries');
  assert.equal(after.status, 403);
});

test('hostile TLS clients: no certificate, a certificate from another CA, an expired agent SVID', async (t) => {
  const server = await startTestServer(t);
  const bundle = server.ctx.ca.bundle();
  const agent = await attest(server);
  t.after(() => agent.dispatcher.close());

  const anon = anonymousDispatcher(bundle);
  t.after(() => anon.close());
  for (const [method, path] of [['GET', '/agent/v1/entries'], ['POST', '/agent/v1/sign'], ['POST', '/agent/v1/renew'], ['GET', '/agent/v1/watch'], ['GET', '/agent/v1/bundles']] as const) {
    const r = await call(server, anon, method, path, method === 'POST' ? {} : undefined);
    assert.equal(r.status, 401, `${method} ${path}`);
    assert.equal(r.body.error.code, 'ERR_SERVER_UNAUTHENTICATED');
  }

  // Same trust domain name, same agent ID, another CA: not trusted.
  const rogue = CertificateAuthority.create({ trustDomain: TD });
  const rk = newKey();
  const rm = rogue.mintX509Svid({ spiffeId: agent.id, publicKey: rk.publicKey });
  const rogueSvid = X509Svid.parse(rm.chain, pkcs8(rk));
  const rogueClient = svidDispatcher(rogueSvid, bundle);
  t.after(() => rogueClient.close());
  const r1 = await call(server, rogueClient, 'GET', '/agent/v1/entries');
  assert.equal(r1.status, 401);

  // An SVID of ours, recorded as the agent's current one, but expired.
  const ek = newKey();
  const past = new Date(Date.now() - 2 * 3600_000);
  const authority = server.internals.ca.authority;
  const em = authority.mintX509Svid({ spiffeId: agent.id, publicKey: ek.publicKey, ttlSeconds: 60, now: past });
  const agentRecord = (await server.ctx.store.getAgent(agent.id))!;
  await server.ctx.store.upsertAgent({ spiffeId: agent.id, attestationType: agentRecord.attestationType, selectors: agentRecord.selectors, serialNumber: em.serialNumber, expiresAt: Math.floor(em.expiresAt.getTime() / 1000) }, Math.floor(Date.now() / 1000));
  await server.ctx.entries.refresh();
  const expiredSvid = X509Svid.parse(em.chain, pkcs8(ek));
  const expiredClient = svidDispatcher(expiredSvid, bundle);
  t.after(() => expiredClient.close());
  const r2 = await call(server, expiredClient, 'GET', '/agent/v1/entries');
  assert.equal(r2.status, 401);
});

test('the server refuses TLS 1.2 and does not resume sessions', async (t) => {
  const server = await startTestServer(t);
  const { connect } = await import('node:tls');
  const ca = server.ctx.ca.bundle().toPem();
  const tls12 = await new Promise<string>((resolve) => {
    const s = connect({ host: '127.0.0.1', port: server.ports.api, ca, maxVersion: 'TLSv1.2', checkServerIdentity: () => undefined });
    s.once('secureConnect', () => {
      s.destroy();
      resolve('connected');
    });
    s.once('error', (err) => resolve((err as NodeJS.ErrnoException).code ?? 'error'));
  });
  assert.notEqual(tls12, 'connected');
  // Collect any session the server hands out, then offer it back.
  const first = await new Promise<Buffer | undefined>((resolve) => {
    let session: Buffer | undefined;
    const s = connect({ host: '127.0.0.1', port: server.ports.api, ca, checkServerIdentity: () => undefined });
    s.on('session', (sess) => {
      session = sess;
    });
    s.once('secureConnect', () => {
      s.write('GET /agent/v1/entries HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n');
    });
    s.on('data', () => undefined);
    s.once('close', () => resolve(session));
  });
  if (process.env.MESHWARD_TEST_DEBUG) console.log('session offered by the server:', first !== undefined);
  if (first !== undefined) {
    const reused = await new Promise<boolean>((resolve) => {
      const s = connect({ host: '127.0.0.1', port: server.ports.api, ca, session: first, checkServerIdentity: () => undefined });
      s.once('secureConnect', () => {
        const r = s.isSessionReused();
        s.destroy();
        resolve(r);
      });
      s.once('error', () => resolve(false));
    });
    assert.equal(reused, false);
  }
});

test('join token secrets are 64 hex characters, never starting with "-"', () => {
  for (let i = 0; i < 2000; i++) assert.match(newJoinTokenSecret(), /^[0-9a-f]{64}$/);
});
