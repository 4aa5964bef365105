/**
 * The fast paths of the agent keep their guarantees: attestation once per
 * connection with the pid-reuse check on every call, one hash of an
 * executable however many callers run it, the executable hashed only while
 * an entry selects on `unix:sha256` (and callers attested without it
 * attested again, open streams included, when one does), and the rotator's
 * checks of a signed SVID (ID, profile, key = ours) without going through
 * X509Svid.parse.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CertificateAuthority } from '../../src/ca/index.js';
import { encodePem } from '../../src/spiffe/pem.js';
import { publicKeyFromCsr } from '../../src/ca/csr.js';
import { ConnectionAttestations, recordPeer, releasePeer } from '../../src/agent/attestors/attest-caller.js';
import { ExeHasher } from '../../src/agent/attestors/exe-hash.js';
import { linuxProc, type ProcReader } from '../../src/agent/attestors/proc.js';
import { UnixAttestor } from '../../src/agent/attestors/unix.js';
import { JwtCache } from '../../src/agent/jwt-cache.js';
import { startWorkloadEndpoint } from '../../src/agent/workload-api/endpoint.js';
import { KeyedTokenBuckets } from '../../src/guard/token-bucket.js';
import { firstMessages, securityHeader, workloadClient } from './support/grpc-client.js';
import type { AgentEntry } from '../../src/agent/entry.js';
import { SvidCache, type Revocation } from '../../src/agent/svid-cache.js';
import { AnswerMemo } from '../../src/agent/answer-memo.js';
import { SvidRotator, type SignedSvid } from '../../src/agent/svid-rotator.js';

function fakeProc(): { proc: ProcReader; set(start: string, uid?: number): void; gone(v: boolean): void } {
  let start = '100';
  let uid = 1000;
  let gone = false;
  const proc: ProcReader = {
    startTime: () => {
      if (gone) throw new Error('ENOENT');
      return start;
    },
    status: async () => ({ uids: [uid, uid, uid, uid], gids: [100, 100, 100, 100], groups: [] }),
    exe: async () => '/usr/bin/app',
  };
  return { proc, set: (s, u = 1000) => ((start = s), (uid = u)), gone: (v) => (gone = v) };
}

test('attestation runs once per connection; every call still checks that the pid names the process that connected', async () => {
  const { proc, set, gone } = fakeProc();
  let runs = 0;
  let fail = false;
  const attestor = {
    name: 'test',
    attest: async () => {
      runs++;
      await new Promise((r) => setTimeout(r, 5));
      if (fail) throw new Error('cannot read /proc');
      return [{ type: 'unix', value: 'uid:1000' }];
    },
  };
  const cache = new ConnectionAttestations([attestor], proc);
  const conn = recordPeer({ pid: 4242, uid: 1000, gid: 100 }, proc);
  // Concurrent first calls share one attestation; later calls reuse it.
  const first = await Promise.all([cache.selectors(conn), cache.selectors(conn), cache.selectors(conn)]);
  for (const r of first) assert.deepEqual([...r.selectors], ['unix:uid:1000']);
  assert.equal(first.filter((r) => r.fresh).length, 1);
  await cache.selectors(conn);
  assert.equal(runs, 1);

  // The pid now names another process (reused), then the same process changed uid, then it is gone: every call refuses.
  set('200');
  await assert.rejects(cache.selectors(conn), (e: any) => e.code === 'ERR_AGENT_PID_REUSED');
  set('100', 0);
  await assert.rejects(cache.selectors(conn), (e: any) => e.code === 'ERR_AGENT_PID_REUSED');
  set('100');
  gone(true);
  await assert.rejects(cache.selectors(conn), (e: any) => e.code === 'ERR_AGENT_PID_REUSED');
  gone(false);
  assert.deepEqual([...(await cache.selectors(conn)).selectors], ['unix:uid:1000']);
  assert.equal(runs, 1);

  // Another connection (even from the same pid) is attested on its own; a failed attestation is not kept.
  fail = true;
  const conn2 = recordPeer({ pid: 4242, uid: 1000, gid: 100 }, proc);
  await assert.rejects(cache.selectors(conn2), (e: any) => e.code === 'ERR_AGENT_ATTESTATION_FAILED');
  fail = false;
  assert.deepEqual([...(await cache.selectors(conn2)).selectors], ['unix:uid:1000']);
  assert.equal(runs, 3);

  // Pid reuse during the first attestation is caught by that attestation.
  const conn3 = recordPeer({ pid: 4242, uid: 1000, gid: 100 }, proc);
  const pending = cache.selectors(conn3);
  set('300');
  await assert.rejects(pending, (e: any) => e.code === 'ERR_AGENT_PID_REUSED');
});

test('the /proc files kept for a connection see the real process: a seteuid or setegid since it connected, and its exit', { skip: process.getuid?.() !== 0 ? 'needs root (the child changes its effective ids)' : false }, async (t) => {
  // A child that changes its effective ids on signals, as a workload that drops privileges after connecting.
  const child = spawn(process.execPath, ['-e', `
    process.on('SIGUSR1', () => { process.seteuid(4242); console.log('uid'); });
    process.on('SIGUSR2', () => { process.seteuid(0); process.setegid(4343); console.log('gid'); });
    process.on('SIGHUP', () => { process.setegid(0); console.log('root'); });
    setInterval(() => {}, 1000); console.log('ready');`], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => child.kill('SIGKILL'));
  const said = (): Promise<void> => new Promise((r) => child.stdout!.once('data', () => r()));
  await said();
  const checks = new ConnectionAttestations([{ name: 'test', attest: async () => [{ type: 'unix', value: 'uid:0' }] }], linuxProc);
  const peer = recordPeer({ pid: child.pid!, uid: 0, gid: 0 }, linuxProc);
  t.after(() => releasePeer(peer));
  assert.deepEqual([...(await checks.selectors(peer)).selectors], ['unix:uid:0']);
  assert.deepEqual([...(await checks.selectors(peer)).selectors], ['unix:uid:0'], 'warm: the kept files are read again');

  child.kill('SIGUSR1');
  await said();
  await assert.rejects(checks.selectors(peer), (e: any) => e.code === 'ERR_AGENT_PID_REUSED', 'a new effective uid');
  child.kill('SIGUSR2');
  await said();
  await assert.rejects(checks.selectors(peer), (e: any) => e.code === 'ERR_AGENT_PID_REUSED', 'a new effective gid');

  // Back to the ids it connected with: served again. Then gone: a root caller that exited (its /proc
  // directory now shows uid and gid 0, like the caller's) is refused too.
  child.kill('SIGHUP');
  await said();
  assert.deepEqual([...(await checks.selectors(peer)).selectors], ['unix:uid:0']);
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
  await assert.rejects(checks.selectors(peer), (e: any) => e.code === 'ERR_AGENT_PID_REUSED', 'the process is gone');
});

test('concurrent callers running the same executable share one hash of it', async () => {
  const hasher = new ExeHasher(1024 * 1024 * 1024);
  const expected = createHash('sha256').update(readFileSync(`/proc/${process.pid}/exe`)).digest('hex');
  const digests = await Promise.all(Array.from({ length: 20 }, () => hasher.hash(process.pid)));
  assert.deepEqual(new Set(digests), new Set([expected]));
  assert.equal(await hasher.hash(process.pid), expected);
  const small = new ExeHasher(1024);
  assert.equal(await small.hash(process.pid), undefined, 'over the size limit: no digest');
});

const TD = 'example.org';
function entry(id: string, spiffeId: string): AgentEntry {
  return { id, spiffeId, parentId: `spiffe://${TD}/agent`, selectors: [{ type: 'unix', value: 'uid:1' }], x509SvidTtl: 3600, jwtSvidTtl: 300, dnsNames: [], federatesWith: [], hint: '', revision: 1, expiresAt: null };
}

test('the rotator keeps only SVIDs with the entry\'s ID, the SVID profile and our key', async () => {
  const ca = CertificateAuthority.create({ trustDomain: TD, keyType: 'ec-p256' });
  const cache = new SvidCache();
  cache.setEntries([entry('good', `spiffe://${TD}/good`), entry('wrong-id', `spiffe://${TD}/wrong-id`), entry('wrong-key', `spiffe://${TD}/wrong-key`), entry('ca-leaf', `spiffe://${TD}/ca-leaf`), entry('garbage', `spiffe://${TD}/garbage`)]);
  const pem = (ders: Buffer[]): string => ders.map((d) => encodePem('CERTIFICATE', d)).join('');
  const sign = async (requests: Array<{ entryId: string; csr: string }>): Promise<{ svids: SignedSvid[] }> => ({
    svids: requests.map(({ entryId, csr }) => {
      const mint = (spiffeId: string, publicKey = publicKeyFromCsr(csr)) => ca.mintX509Svid({ spiffeId, publicKey });
      let chainPem: string;
      let m;
      if (entryId === 'wrong-id') chainPem = pem((m = mint(`spiffe://${TD}/someone-else`)).chain);
      else if (entryId === 'wrong-key') chainPem = pem((m = mint(`spiffe://${TD}/wrong-key`, generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey)).chain);
      else if (entryId === 'ca-leaf') chainPem = pem([ca.bundle().x509Authorities()[0]!]);
      else if (entryId === 'garbage') chainPem = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n';
      else chainPem = pem((m = mint(`spiffe://${TD}/${entryId}`)).chain);
      return { entryId, spiffeId: `spiffe://${TD}/${entryId}`, chainPem, serialNumber: m?.serialNumber ?? '01', expiresAt: Date.now() + 3600_000 };
    }),
  });
  const rotator = new SvidRotator({ cache, sign, batchSize: 2 });
  rotator.kick();
  await new Promise((r) => setTimeout(r, 20));
  await rotator.idle();
  rotator.close();
  assert.deepEqual([...cache.svids()].map((s) => s.entryId), ['good']);
  const good = cache.svid('good')!;
  assert.equal(good.chain.length, 1);
  assert.ok(good.expiresAt > Date.now() + 3000_000 && good.rotateAt < good.expiresAt);
  const leafKey = new X509Certificate(good.chain[0]!).publicKey;
  assert.ok(createPublicKey(createPrivateKey({ key: good.key, format: 'der', type: 'pkcs8' })).equals(leafKey), 'the served key is the leaf\'s');
});

test('the executable is hashed only while an entry selects on unix:sha256; an open stream picks up such an entry when it comes', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mw-sha-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const ca = CertificateAuthority.create({ trustDomain: TD, keyType: 'ec-p256' });
  const cache = new SvidCache();
  const uid = process.getuid!();
  const digest = createHash('sha256').update(readFileSync(`/proc/${process.pid}/exe`)).digest('hex');
  const byUid = { ...entry('by-uid', `spiffe://${TD}/by-uid`), selectors: [{ type: 'unix', value: `uid:${uid}` }] };
  const byHash = { ...entry('by-hash', `spiffe://${TD}/by-hash`), selectors: [{ type: 'unix', value: `uid:${uid}` }, { type: 'unix', value: `sha256:${digest}` }] };
  const svidFor = (e: AgentEntry) => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const m = ca.mintX509Svid({ spiffeId: e.spiffeId, publicKey });
    return { entryId: e.id, entryRevision: e.revision, spiffeId: e.spiffeId, chain: m.chain, key: privateKey.export({ type: 'pkcs8', format: 'der' }), serialNumber: m.serialNumber, requestedAt: Date.now(), expiresAt: m.expiresAt.getTime(), rotateAt: m.expiresAt.getTime() };
  };

  // The attestor alone: no digest unless wanted.
  let wanted = false;
  const unix = new UnixAttestor({ hashWanted: () => wanted });
  const me = { pid: process.pid, uid, gid: process.getgid!() };
  assert.ok(!(await unix.attest(me)).some((s) => s.value.startsWith('sha256:')));
  wanted = true;
  assert.ok((await unix.attest(me)).some((s) => s.value === `sha256:${digest}`));

  // The cache says when it is wanted, and moves its generation only when it becomes wanted.
  cache.setBundles(ca.bundle(), new Map());
  cache.setEntries([byUid]);
  cache.putSvids([svidFor(byUid)]);
  assert.equal(cache.hashSelectorsWanted, false);
  const g0 = cache.selectorGeneration;

  const endpoint = await startWorkloadEndpoint(join(dir, 'agent.sock'), {
    cache,
    jwtCache: new JwtCache(),
    fetchJwt: async () => {
      throw new Error('not used');
    },
    attestors: [new UnixAttestor({ hashWanted: () => cache.hashSelectorsWanted })],
    proc: linuxProc,
    limiter: new KeyedTokenBuckets({ ratePerSecond: 1000, burst: 1000 }),
    log: { warn() {}, debug() {} },
  });
  t.after(() => endpoint.close());
  const client = workloadClient(endpoint.socketPath);
  t.after(() => client.close());
  const call = client.FetchX509SVID({}, securityHeader());
  const seen: string[][] = [];
  call.on('data', (m: any) => seen.push(m.svids.map((s: any) => s.spiffe_id)));
  call.on('error', () => undefined);
  t.after(() => call.cancel());
  const until = async (fn: () => boolean): Promise<void> => {
    const end = Date.now() + 5000;
    while (!fn()) {
      if (Date.now() > end) throw new Error(`timed out; seen ${JSON.stringify(seen)}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  await until(() => seen.length === 1);
  assert.deepEqual(seen[0], [byUid.spiffeId]);

  cache.setEntries([byUid, byHash]);
  cache.putSvids([svidFor(byHash)]);
  assert.equal(cache.hashSelectorsWanted, true);
  assert.equal(cache.selectorGeneration, g0 + 1);
  await until(() => seen.some((ids) => ids.includes(byHash.spiffeId)));
  assert.deepEqual(seen.at(-1), [byHash.spiffeId, byUid.spiffeId]);
  // A new stream, too.
  const [fresh] = await firstMessages(client.FetchX509SVID({}, securityHeader()), 1);
  assert.deepEqual(fresh.svids.map((s: any) => s.spiffe_id), [byHash.spiffeId, byUid.spiffeId]);

  // A new revision of the sha256 entry: still wanted, no new generation (no re-attestation of every caller).
  cache.setEntries([byUid, { ...byHash, revision: 2 }]);
  assert.equal(cache.selectorGeneration, g0 + 1);
  cache.setEntries([byUid]);
  assert.equal(cache.hashSelectorsWanted, false);
});

test('the sync\'s shortcuts keep their guarantees: an identical answer hands back the same objects, the same revocation list again drops nothing new, and SVIDs arriving later are still checked against it', () => {
  const memo = new AnswerMemo();
  let parses = 0;
  const derive = (b: Buffer) => (parses++, JSON.parse(b.toString('utf8')) as { n: number });
  const first = memo.get('/x', Buffer.from('{"n":1}'), derive);
  assert.equal(memo.get('/x', Buffer.from('{"n":1}'), derive), first, 'same bytes: the same object, not parsed again');
  assert.equal(parses, 1);
  assert.deepEqual(memo.get('/x', Buffer.from('{"n":2}'), derive), { n: 2 });
  assert.throws(() => memo.get('/x', Buffer.from('{'), derive));
  assert.deepEqual(memo.get('/x', Buffer.from('{"n":2}'), derive), { n: 2 }, 'a failed answer is not kept');

  const cache = new SvidCache();
  cache.setEntries([entry('a', `spiffe://${TD}/a`), entry('b', `spiffe://${TD}/b`)]);
  const svid = (entryId: string, serialNumber: string, requestedAt = Date.now()) => ({ entryId, entryRevision: 1, spiffeId: `spiffe://${TD}/${entryId}`, chain: [], key: Buffer.alloc(0), serialNumber, requestedAt, expiresAt: Date.now() + 3600_000, rotateAt: Date.now() + 1800_000 });
  assert.equal(cache.putSvids([svid('a', 'AA01'), svid('b', 'BB01', Date.now() - 60_000)]), 2);
  const none: Revocation[] = [];
  assert.equal(cache.setRevocations(none), 0);
  const list: Revocation[] = [{ spiffeId: `spiffe://${TD}/a`, serialNumber: 'aa01', createdAt: 0, expiresAt: 0 }, { spiffeId: `spiffe://${TD}/b`, serialNumber: null, createdAt: Math.floor(Date.now() / 1000) - 30, expiresAt: 0 }];
  assert.equal(cache.setRevocations(list), 2, 'a revoked serial, and an ID revoked after the SVID was asked for');
  assert.equal(cache.svidCount, 0);
  assert.equal(cache.setRevocations(list), 0, 'the same list again');
  assert.equal(cache.putSvids([svid('a', 'AA01'), svid('b', 'BB02', Date.now() - 60_000), svid('b', 'BB03')]), 1, 'later SVIDs are checked on arrival: only the one asked for after the revocation is kept');
  assert.equal(cache.svid('b')?.serialNumber, 'BB03');
  assert.equal(cache.setRevocations([...list]), 0, 'an equal new list: checked again, nothing to drop');
});
