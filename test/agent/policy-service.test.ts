/**
 * The agent's PolicyDistribution service in process, over a real Unix
 * socket: the Workload API endpoint with an in-memory cache (policies set by
 * hand, as the syncer does) and a stock grpc-js client on
 * proto/meshward_policy.proto. Push latency, suppression of identical sets,
 * the first answer from cache, and identity loss.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { KeyedTokenBuckets } from '../../src/guard/token-bucket.js';
import { linuxProc } from '../../src/agent/attestors/proc.js';
import type { AgentEntry } from '../../src/agent/entry.js';
import { JwtCache } from '../../src/agent/jwt-cache.js';
import { SvidCache } from '../../src/agent/svid-cache.js';
import { startWorkloadEndpoint } from '../../src/agent/workload-api/endpoint.js';
import { Bundle } from '../../src/spiffe/bundle.js';
import { policyDistributionClient } from '../../src/workload/policy-source.js';

const uid = process.getuid?.() ?? 0;
const quiet = { warn() {}, debug() {} };

function entry(id: string, selector: string, revision = 1): AgentEntry {
  return { id, spiffeId: `spiffe://example.org/${id}`, parentId: 'spiffe://example.org/agent', selectors: [{ type: 'unix', value: selector }], x509SvidTtl: 3600, jwtSvidTtl: 300, dnsNames: [], federatesWith: [], hint: '', revision, expiresAt: null };
}

async function setup(t: { after(fn: () => unknown): void }) {
  const dir = mkdtempSync(join(tmpdir(), 'mw-ps-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const cache = new SvidCache();
  const endpoint = await startWorkloadEndpoint(join(dir, 'agent.sock'), {
    cache,
    jwtCache: new JwtCache(),
    fetchJwt: async () => {
      throw new Error('not used');
    },
    attestors: [{ name: 'unix', attest: async (peer) => [{ type: 'unix', value: `uid:${peer.uid}` }] }],
    proc: linuxProc,
    limiter: new KeyedTokenBuckets({ ratePerSecond: 1000, burst: 1000 }),
    log: quiet,
  });
  t.after(() => endpoint.close());
  const Client = policyDistributionClient();
  const client = new Client(`unix://${endpoint.socketPath}`, grpc.credentials.createInsecure()) as any;
  t.after(() => client.close());
  const md = new grpc.Metadata();
  md.set('workload.spiffe.io', 'true');
  const messages: Array<{ at: number; set: any }> = [];
  let error: any;
  const open = () => {
    const call = client.WatchPolicies({}, md);
    call.on('data', (set: any) => messages.push({ at: Date.now(), set }));
    call.on('error', (e: any) => (error = e));
    t.after(() => call.cancel());
    return call;
  };
  return { cache, open, messages, error: () => error };
}

const until = async (fn: () => boolean, ms = 3000): Promise<void> => {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
};

test('WatchPolicies: waits for the first sync, pushes each new revision at once, suppresses identical sets, ends in PermissionDenied when the identity goes', async (t) => {
  const { cache, open, messages, error } = await setup(t);
  open();
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(messages.length, 0, 'nothing before the agent has synced');

  cache.setRevocations([]);
  cache.setBundles(new Bundle('example.org', {}), new Map());
  cache.setEntries([entry('enforcer', `uid:${uid}`)]);
  cache.setPolicies({ revision: 'r1', policies: [{ namespace: 'ns', name: 'a', document: 'apiVersion: security.istio.io/v1\n' }] });
  await until(() => messages.length === 1);
  assert.deepEqual(messages[0]!.set, { revision: 'r1', policies: [{ namespace: 'ns', name: 'a', document: 'apiVersion: security.istio.io/v1\n' }] });

  // A new revision: pushed well within a second.
  const t0 = Date.now();
  cache.setPolicies({ revision: 'r2', policies: [] });
  await until(() => messages.length === 2, 1000);
  assert.ok(messages[1]!.at - t0 < 1000, `${messages[1]!.at - t0} ms`);
  assert.deepEqual(messages[1]!.set, { revision: 'r2', policies: [] });

  // Entry changes that keep our identity: no new message.
  cache.setEntries([entry('enforcer', `uid:${uid}`), entry('other', 'uid:65534')]);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(messages.length, 2);

  // A second watcher gets the cached set at once.
  const before = messages.length;
  open();
  await until(() => messages.length === before + 1, 1000);
  assert.equal(messages.at(-1)!.set.revision, 'r2');

  // The identity goes: the stream ends in PermissionDenied.
  cache.setEntries([entry('other', 'uid:65534')]);
  await until(() => error() !== undefined);
  assert.equal(error().code, grpc.status.PERMISSION_DENIED);
  assert.equal(error().details, 'no identity issued');
});
