/**
 * Workload attestation with real processes of other uids and gids, the
 * pid-reuse defence, the selector parsers, and hostile callers.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { connect } from 'node:net';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { http2Frames } from './support/raw-frames.js';
import { attestCaller, recordPeer } from '../../src/agent/attestors/attest-caller.js';
import { parseNameFile } from '../../src/agent/attestors/name-db.js';
import { parseStatStartTime, parseStatus, type ProcReader } from '../../src/agent/attestors/proc.js';
import { UnixAttestor } from '../../src/agent/attestors/unix.js';
import { adminCall, createEntries, joinToken, startTestServer, TD } from '../server/support/runtime.js';
import { sharedTempDir, startAgentProcess, TSX, writeFile } from './support/agent-process.js';
import { firstMessages, grpc, securityHeader, workloadClient } from './support/grpc-client.js';

const run = promisify(execFile);
const CHILD = new URL('./support/workload-child.ts', import.meta.url).pathname;

async function setup(t: { after(fn: () => unknown): void }) {
  const server = await startTestServer(t);
  const dir = sharedTempDir(t);
  const bundle = writeFile(dir, 'bundle.pem', server.ctx.ca.bundle().toPem());
  const { token } = await joinToken(server);
  const agent = await startAgentProcess(t, ['--server', server.urls.api, '--join-token', token, '--trust-bundle', bundle, '--socket', `${dir}/s/agent.sock`, '--data-dir', `${dir}/data`, '--health-bind', 'off', '--metrics-bind', 'off', '--log-level', 'warn']);
  return { server, dir, agent, token, bundle };
}

async function asUser(socket: string, uid: number, gid: number): Promise<{ ids?: string[]; code?: number }> {
  const { stdout } = await run(process.execPath, ['--import', TSX, CHILD, socket], { uid, gid, env: { ...process.env, HOME: '/tmp' }, timeout: 30_000 } as never);
  return JSON.parse(String(stdout).trim().split('\n').pop()!);
}

test('processes with different uids and gids each get exactly the SVIDs their selectors match', async (t) => {
  const { server, agent } = await setup(t);
  await createEntries(server, [
    { spiffeId: `spiffe://${TD}/alice`, parentId: agent.spiffeId, selectors: [{ type: 'unix', value: 'uid:12345' }] },
    { spiffeId: `spiffe://${TD}/alice-ops`, parentId: agent.spiffeId, selectors: [{ type: 'unix', value: 'uid:12345' }, { type: 'unix', value: 'gid:23456' }] },
    { spiffeId: `spiffe://${TD}/bob`, parentId: agent.spiffeId, selectors: [{ type: 'unix', value: 'uid:12346' }] },
    { spiffeId: `spiffe://${TD}/node-binary`, parentId: agent.spiffeId, selectors: [{ type: 'unix', value: 'uid:12346' }, { type: 'unix', value: `path:${process.execPath}` }] },
    { spiffeId: `spiffe://${TD}/other-binary`, parentId: agent.spiffeId, selectors: [{ type: 'unix', value: 'uid:12346' }, { type: 'unix', value: 'path:/usr/bin/false' }] },
  ]);
  const [alice, aliceOps, bob, nobody] = await Promise.all([
    asUser(agent.socketPath, 12345, 12345),
    asUser(agent.socketPath, 12345, 23456),
    asUser(agent.socketPath, 12346, 12346),
    asUser(agent.socketPath, 12347, 12347),
  ]);
  assert.deepEqual(alice.ids, [`spiffe://${TD}/alice`]);
  assert.deepEqual(aliceOps.ids?.sort(), [`spiffe://${TD}/alice`, `spiffe://${TD}/alice-ops`]);
  assert.deepEqual(bob.ids?.sort(), [`spiffe://${TD}/bob`, `spiffe://${TD}/node-binary`]);
  assert.equal(nobody.code, grpc.status.PERMISSION_DENIED);
});

test('pid reuse: a different process behind the pid after attestation fails attestation', async () => {
  let start = '100';
  const proc: ProcReader = {
    startTime: () => start,
    status: async () => ({ uids: [1000, 1000, 1000, 1000], gids: [100, 100, 100, 100], groups: [100, 4] }),
    exe: async () => '/usr/bin/app',
  };
  const attestor = { name: 'test', attest: async () => [{ type: 'unix', value: 'uid:1000' }] };
  const peer = recordPeer({ pid: 4242, uid: 1000, gid: 100 }, proc);
  assert.deepEqual(await attestCaller(peer, [attestor], proc), [{ type: 'unix', value: 'uid:1000' }]);
  start = '200'; // the process exited and its pid was reused
  await assert.rejects(attestCaller(peer, [attestor], proc), (e: any) => e.code === 'ERR_AGENT_PID_REUSED');
  start = '100';
  const setuid: ProcReader = { ...proc, status: async () => ({ uids: [0, 0, 0, 0], gids: [100, 100, 100, 100], groups: [] }) };
  await assert.rejects(attestCaller(peer, [attestor], setuid), (e: any) => e.code === 'ERR_AGENT_PID_REUSED');
  const gone: ProcReader = { ...proc, startTime: () => { throw new Error('ENOENT'); } };
  await assert.rejects(attestCaller(peer, [attestor], gone), (e: any) => e.code === 'ERR_AGENT_PID_REUSED');
});

test('selector sources are parsed carefully: /proc stat and status, passwd and group files', async () => {
  assert.equal(parseStatStartTime('123 (a b) c)) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 987654 20 21'), '987654');
  assert.throws(() => parseStatStartTime('garbage'));
  const st = parseStatus('Name:\tx\nUid:\t1000\t1001\t1002\t1003\nGid:\t10\t11\t12\t13\nGroups:\t4 24 27 \n');
  assert.deepEqual(st, { uids: [1000, 1001, 1002, 1003], gids: [10, 11, 12, 13], groups: [4, 24, 27] });
  assert.throws(() => parseStatus('Uid:\tx\nGid:\t1 1 1 1\n'));
  const names = parseNameFile('# comment\n\nroot:x:0:0:root:/root:/bin/sh\nbad line\nevil\u0007:x:5:5:::\nroot2:x:0:0:::\n+nis:x:7:7:::\nok:x:1000:1000:,,,:/home/ok:/bin/sh\n', 7);
  assert.deepEqual([...names], [[0, 'root'], [1000, 'ok']]);
  const selectors = await new UnixAttestor().attest({ pid: process.pid, uid: process.getuid!(), gid: process.getgid!() });
  const values = selectors.map((s) => s.value);
  assert.ok(values.includes('uid:0') && values.includes('user:root') && values.includes('gid:0') && values.includes('group:root'));
  assert.ok(values.includes(`path:${process.execPath}`));
  assert.ok(values.some((v) => /^sha256:[0-9a-f]{64}$/.test(v)));
  const small = await new UnixAttestor({ workloadSizeLimit: 1024 }).attest({ pid: process.pid, uid: 0, gid: 0 });
  assert.ok(!small.some((s) => s.value.startsWith('sha256:')), 'too large to hash: no sha256 selector');
});

test('hostile: garbage and oversized frames do not crash the agent; an entry deleted on the server leaves the stream within 1 s', async (t) => {
  const { server, agent } = await setup(t);
  const [keep, drop] = await createEntries(server, [
    { spiffeId: `spiffe://${TD}/keep`, parentId: agent.spiffeId, selectors: [{ type: 'unix', value: 'uid:0' }] },
    { spiffeId: `spiffe://${TD}/drop`, parentId: agent.spiffeId, selectors: [{ type: 'unix', value: 'uid:0' }] },
  ]);
  // Not HTTP/2 at all.
  await new Promise<void>((resolve) => {
    const s = connect(agent.socketPath, () => s.end(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n' + 'A'.repeat(100_000))));
    s.on('error', () => resolve());
    s.on('close', () => resolve());
    s.resume();
  });
  // HTTP/2 with gRPC frames: oversized, compressed, truncated, garbage protobuf.
  for (const body of [Buffer.from([0, 0xff, 0xff, 0xff, 0xff]), Buffer.from([1, 0, 0, 0, 1, 0]), Buffer.from([0, 0, 0, 0, 9, 1]), Buffer.from([0, 0, 0, 0, 3, 0xff, 0xff, 0xff])]) {
    const status = await http2Frames(agent.socketPath, '/SpiffeWorkloadAPI/FetchJWTSVID', body);
    assert.ok(status !== undefined && status !== '0', `refused with a gRPC status (${status})`);
  }
  assert.equal(agent.child.exitCode, null, 'still running');

  const client = workloadClient(agent.socketPath);
  t.after(() => client.close());
  const stream = client.FetchX509SVID({}, securityHeader());
  const messages: any[] = [];
  stream.on('data', (m: any) => messages.push(m));
  stream.on('error', () => undefined);
  const until = async (pred: () => boolean, ms: number): Promise<boolean> => {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      if (pred()) return true;
      await new Promise((r) => setTimeout(r, 20));
    }
    return pred();
  };
  assert.ok(await until(() => messages.some((m) => m.svids.length === 2), 10_000), 'both SVIDs served');
  const deletedAt = Date.now();
  const r = await adminCall(server, 'DELETE', `/v1/entries/${drop!.id}`);
  assert.equal(r.status, 200);
  assert.ok(await until(() => messages.at(-1)?.svids.length === 1, 1000), 'the deleted entry left the stream within 1 s');
  assert.deepEqual(messages.at(-1).svids.map((s: any) => s.spiffe_id), [keep!.spiffeId]);
  t.diagnostic(`deletion reached the stream in ${Date.now() - deletedAt} ms`);
  stream.cancel();
});

test('hostile: a second attestation with the same join token fails; a banned agent stops getting SVIDs', async (t) => {
  const { server, dir, agent, token, bundle } = await setup(t);
  await assert.rejects(
    startAgentProcess(t, ['--server', server.urls.api, '--join-token', token, '--trust-bundle', bundle, '--socket', `${dir}/s2/agent.sock`, '--data-dir', `${dir}/data2`, '--health-bind', 'off', '--metrics-bind', 'off'], {}, 20_000),
    (e: Error) => /exited \(1\)/.test(e.message) && /join token|409/i.test(e.message),
  );
  await createEntries(server, [{ spiffeId: `spiffe://${TD}/web`, parentId: agent.spiffeId, selectors: [{ type: 'unix', value: 'uid:0' }] }]);
  const client = workloadClient(agent.socketPath);
  t.after(() => client.close());
  // PermissionDenied until the agent has synced the entry (clients retry it, as the spec says).
  let m: any;
  for (let i = 0; i < 50 && m === undefined; i++) {
    [m] = await firstMessages(client.FetchX509SVID({}, securityHeader()), 1).catch(() => [undefined]);
    if (m === undefined) await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(m.svids.length, 1);
  assert.equal((await adminCall(server, 'POST', '/v1/agents/ban', { spiffeId: agent.spiffeId })).status, 200);
  const end = Date.now() + 10_000;
  let code: number | undefined;
  while (Date.now() < end) {
    try {
      await firstMessages(client.FetchX509SVID({}, securityHeader()), 1, 2000);
    } catch (e: any) {
      code = e.code;
      if (code === grpc.status.PERMISSION_DENIED) break;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.equal(code, grpc.status.PERMISSION_DENIED, 'a banned agent serves no SVID');
});
