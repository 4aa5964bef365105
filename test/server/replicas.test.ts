/**
 * Several replicas: two `meshward server run` processes on one PostgreSQL.
 * The bundle holds both replicas' roots; an entry created through one is
 * served by the other within 1 s; a token made on one is consumed on the
 * other; an agent API client configured with both addresses keeps working
 * when one is killed with SIGKILL. Needs MESHWARD_TEST_PG_URL (fails without).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Agent } from 'undici';
import { Bundle } from '../../src/spiffe/bundle.js';
import { X509Svid } from '../../src/spiffe/x509/x509-svid.js';
import { startServerProcess, type ServerProcess } from './support/process.js';
import { schemaUrl } from './support/pg.js';
import { adminCall, anonymousDispatcher, call, createEntries, csrPem, joinToken, newKey, svidDispatcher, tempDir, TD, type HttpResult } from './support/runtime.js';

async function replica(t: { after(fn: () => unknown): void }, datastore: string): Promise<ServerProcess> {
  const dir = tempDir(t);
  const proc = await startServerProcess(
    ['--trust-domain', TD, '--data-dir', join(dir, 'data'), '--datastore', datastore, '--bind', '127.0.0.1:0', '--health-bind', '127.0.0.1:0'],
    { MESHWARD_LOG_LEVEL: process.env.MESHWARD_TEST_LOG ?? 'warn' },
  );
  t.after(() => proc.kill('SIGKILL'));
  return proc;
}

async function bundleOf(p: ServerProcess): Promise<Bundle> {
  const r = await adminCall(p, 'GET', '/v1/bundle?format=spiffe');
  assert.equal(r.status, 200, r.text);
  return Bundle.parse(r.text, TD);
}

const rootsOf = (b: Bundle): string[] => b.x509Authorities().map((d) => d.toString('base64')).sort();

/** The agent's client: tries each server address in turn (as an agent configured with several does). */
async function callAny(urls: string[], dispatchers: Agent[], method: 'GET' | 'POST', path: string, body?: unknown): Promise<HttpResult & { via: number }> {
  let last: unknown;
  for (const [i, url] of urls.entries()) {
    try {
      return { ...(await call(url, dispatchers[i]!, method, path, body)), via: i };
    } catch (err) {
      last = err;
    }
  }
  throw last;
}

test('two replicas on one PostgreSQL: one bundle, shared entries, failover after kill -9', { timeout: 120_000 }, async (t) => {
  const datastore = await schemaUrl(t);
  const [a, b] = await Promise.all([replica(t, datastore), replica(t, datastore)]);

  // The bundle holds both replicas' roots, on both replicas (within 1 s of start).
  let ba = await bundleOf(a);
  let bb = await bundleOf(b);
  const deadline = Date.now() + 2000;
  while ((rootsOf(ba).length < 2 || rootsOf(bb).length < 2) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    [ba, bb] = [await bundleOf(a), await bundleOf(b)];
  }
  assert.equal(rootsOf(ba).length, 2, 'two roots: one per replica');
  assert.deepEqual(rootsOf(ba), rootsOf(bb));
  assert.deepEqual([...ba.jwtAuthorities().keys()].sort(), [...bb.jwtAuthorities().keys()].sort());
  assert.equal(ba.jwtAuthorities().size, 2);

  // A token made through A is consumed through B; the second use (through A) fails.
  const { token } = await joinToken(a);
  const anonB = anonymousDispatcher(bb);
  const anonA = anonymousDispatcher(ba);
  t.after(() => anonA.close());
  t.after(() => anonB.close());
  const key = newKey();
  const att = await call(b.api, anonB, 'POST', '/agent/v1/attest', { joinToken: token, csr: csrPem(key) });
  assert.equal(att.status, 200, att.text);
  const reuse = await call(a.api, anonA, 'POST', '/agent/v1/attest', { joinToken: token, csr: csrPem() });
  assert.equal(reuse.status, 409);
  const svid = X509Svid.parse(att.body.chainPem, key.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
  const agentId = att.body.spiffeId as string;
  const toA = svidDispatcher(svid, ba);
  const toB = svidDispatcher(svid, bb);
  t.after(() => toA.close());
  t.after(() => toB.close());

  // The agent attested on B is known on A within 1 s (A learns it from the change log).
  const knownOnA = await call(a.api, toA, 'GET', '/agent/v1/entries');
  assert.equal(knownOnA.status, 200, knownOnA.text);

  // An entry created through A is served by B within 1 s.
  const created = Date.now();
  const [entry] = await createEntries(a, [{ spiffeId: `spiffe://${TD}/web`, parentId: agentId }]);
  let servedAt = 0;
  while (Date.now() - created < 3000) {
    const r = await call(b.api, toB, 'GET', '/agent/v1/entries');
    if (r.status === 200 && r.body.entries.some((e: { id: string }) => e.id === entry!.id)) {
      servedAt = Date.now();
      break;
    }
    await new Promise((res) => setTimeout(res, 25));
  }
  assert.ok(servedAt > 0, 'B serves the entry');
  assert.ok(servedAt - created <= 1000, `B served the entry after ${servedAt - created} ms`);

  // A ban through B refuses the SVID on A within 1 s.
  const other = await joinToken(b);
  const k2 = newKey();
  const att2 = await call(b.api, anonB, 'POST', '/agent/v1/attest', { joinToken: other.token, csr: csrPem(k2) });
  assert.equal(att2.status, 200);
  const svid2 = X509Svid.parse(att2.body.chainPem, k2.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
  const agent2OnA = svidDispatcher(svid2, ba);
  t.after(() => agent2OnA.close());
  assert.equal((await call(a.api, agent2OnA, 'GET', '/agent/v1/entries')).status, 200);
  const banned = Date.now();
  assert.equal((await adminCall(b, 'POST', '/v1/agents/ban', { spiffeId: att2.body.spiffeId })).status, 200);
  let refusedAt = 0;
  while (Date.now() - banned < 3000) {
    if ((await call(a.api, agent2OnA, 'GET', '/agent/v1/entries')).status === 403) {
      refusedAt = Date.now();
      break;
    }
    await new Promise((res) => setTimeout(res, 25));
  }
  assert.ok(refusedAt > 0 && refusedAt - banned <= 1000, `ban effective on A after ${refusedAt - banned} ms`);

  // Failover: a client with both addresses (A first) keeps signing when A is killed with SIGKILL.
  const urls = [a.api, b.api];
  const dispatchers = [toA, toB];
  const before = await callAny(urls, dispatchers, 'POST', '/agent/v1/sign', { requests: [{ entryId: entry!.id, csr: csrPem() }] });
  assert.equal(before.status, 200, before.text);
  assert.equal(before.via, 0);
  assert.equal(await a.kill('SIGKILL'), 'SIGKILL');
  for (let i = 0; i < 5; i++) {
    const r = await callAny(urls, dispatchers, 'POST', '/agent/v1/sign', { requests: [{ entryId: entry!.id, csr: csrPem() }] });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.via, 1);
  }
  const renew = await callAny(urls, dispatchers, 'POST', '/agent/v1/renew', { csr: csrPem() });
  assert.equal(renew.status, 200);
});
