/**
 * `meshward up` with real processes: the server and agent in the `up`
 * process, four apps and four proxies as children (as root: each proxy under
 * its own uid; otherwise told apart by hardlinked node binaries). An allowed
 * call (order → payment) passes with the verified peer ID, a denied one
 * (compromised → payment) gets 403 and is in payment's audit file, whose
 * chain verifies; SIGTERM leaves no child behind; a second `up` in the same
 * directory starts without a new join token.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';

const BIN = fileURLToPath(new URL('../../src/cli/bin.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');
const READY_MS = 90_000;

/** `node --import tsx src/cli/bin.ts up …`. */
function upArgs(args: string[]): string[] {
  return ['--import', TSX, BIN, 'up', ...args];
}

interface Up {
  child: ChildProcess;
  out(): string;
  err(): string;
  exited: Promise<number | string>;
  allowedUrl: string;
  deniedUrl: string;
  auditFile: string;
  pids: number[];
}

function startUp(t: { after(fn: () => unknown): void }, dataDir: string): Promise<Up> {
  const child = spawn(process.execPath, upArgs(['--data-dir', dataDir]), { env: { ...process.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`meshward up not ready in ${READY_MS} ms\nstdout:\n${out}\nstderr:\n${err.slice(-4000)}`)), READY_MS);
    const check = (): void => {
      const ready = out.indexOf('meshward mesh ready');
      if (ready < 0) return;
      const rest = out.slice(ready);
      const allowed = /allowed \(order -> payment.*curl -s -X POST (http:\/\/\S+)/.exec(rest)?.[1];
      const denied = /denied +\(compromised -> payment.*curl -s -X POST (http:\/\/\S+)/.exec(rest)?.[1];
      const audit = /meshward audit verify (\S+)/.exec(rest)?.[1];
      const children = /children (.*)/.exec(out)?.[1];
      if (!allowed || !denied || !audit || !children) return;
      clearTimeout(timer);
      const pids = [...children.matchAll(/=(\d+)/g)].map((m) => Number(m[1]));
      resolve({ child, out: () => out, err: () => err, exited, allowedUrl: allowed, deniedUrl: denied, auditFile: audit, pids });
    };
    child.stdout!.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`meshward up exited (${code}) before ready\nstdout:\n${out}\nstderr:\n${err.slice(-4000)}`));
    });
  });
}

async function post(url: string): Promise<{ status: number; text: string }> {
  const res = await request(url, { method: 'POST', body: '{"amount":42}', headers: { 'content-type': 'application/json' }, headersTimeout: 10_000, bodyTimeout: 10_000 });
  return { status: res.statusCode, text: await res.body.text() };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function stop(up: Up): Promise<void> {
  up.child.kill('SIGTERM');
  const code = await Promise.race([up.exited, new Promise((r) => setTimeout(() => r('timeout'), 30_000).unref())]);
  assert.equal(code, 0, `up should exit 0 after SIGTERM\nstdout:\n${up.out()}\nstderr:\n${up.err().slice(-3000)}`);
  assert.match(up.out(), /meshward up: stopped/);
  const deadline = Date.now() + 5000;
  while (up.pids.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(up.pids.filter(alive), [], 'no child of meshward up may outlive it');
}

test('meshward up: allowed and denied calls, audit, clean stop, restart without a join token', { timeout: 300_000 }, async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'mw-up-'));
  chmodSync(tmp, 0o755); // as root the proxies run under other uids and must reach their directories
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const dataDir = join(tmp, 'data');

  const first = await startUp(t, dataDir);
  assert.match(first.out(), /attested with a join token created in-process/);
  assert.match(first.out(), /export SPIFFE_ENDPOINT_SOCKET=unix:\/\/\S+/);
  assert.equal(first.pids.length, 8, first.out());
  if (process.getuid?.() === 0) assert.match(first.out(), /told apart by uid\/gid 61001-61004/);

  const allowed = await post(first.allowedUrl);
  assert.equal(allowed.status, 200, allowed.text);
  const body = JSON.parse(allowed.text);
  assert.equal(body.service, 'payment');
  assert.equal(body.peer, 'spiffe://example.org/ns/demo/sa/order', 'payment app sees the verified caller');

  const denied = await post(first.deniedUrl);
  assert.equal(denied.status, 403, denied.text);
  const records = readFileSync(first.auditFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const denial = records.find((r) => r.caller === 'spiffe://example.org/ns/demo/sa/compromised' && r.decision === 'deny');
  assert.ok(denial, `the denial is in payment's audit file:\n${records.map((r) => JSON.stringify(r)).join('\n')}`);
  assert.equal(denial.status, 403);
  assert.equal(denial.destination, 'spiffe://example.org/ns/demo/sa/payment');
  assert.ok(records.some((r) => r.caller === 'spiffe://example.org/ns/demo/sa/order' && r.decision === 'allow'));

  const verify = spawnSync(process.execPath, ['--import', TSX, BIN, 'audit', 'verify', first.auditFile], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(verify.status, 0, `${verify.stdout}${verify.stderr}`);
  assert.match(verify.stdout, /chain intact/);

  await stop(first);

  const second = await startUp(t, dataDir);
  assert.match(second.out(), /reused its stored SVID, no join token needed/);
  assert.doesNotMatch(second.out(), /join token created/);
  const again = await post(second.allowedUrl);
  assert.equal(again.status, 200, again.text);
  assert.equal((await post(second.deniedUrl)).status, 403);
  await stop(second);
});
