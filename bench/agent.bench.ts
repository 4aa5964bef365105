/**
 * Agent benchmark, one JSON line (figures beside their goals, issue 4):
 *
 * - fetch_x509_*: FetchX509SVID answered from cache, 100 concurrent stock
 *   grpc-js clients (CLIENTS), each on its own connection, in a separate
 *   process from the agent (test/agent/support/fetch-load.ts), the agent
 *   being the real CLI process with RSS_SVIDS cached SVIDs. The figure is the
 *   time from opening a fresh stream to its first message, on a warm
 *   (already attested) connection.
 *     fetch_x509_p50_ms / _p99_ms: closed loop — every client opens its next
 *       stream as soon as the previous answered (CALLS each): throughput-bound
 *       (p50 ≈ CLIENTS / fetch_x509_per_second).
 *     fetch_x509_paced_*: open loop — each client opens a stream every
 *       PACED_MS (start times spread), i.e. CLIENTS × 1000 / PACED_MS a second.
 *     fetch_x509_new_connection_*: the first stream of each client, all 100
 *       connecting at once (connection + workload attestation + first message).
 *       With 100 grpc-js channels made at once this is mostly the client's time;
 *     fetch_x509_new_connection_raw_*: one new connection at a time from a
 *       plain node:http2 client (connect, attestation, first message: the
 *       agent's side of "a first answer within 5 ms").
 *     agent_cpu_ms_per_fetch: the agent's CPU time per fetch in the closed loop.
 * - rotate_10000_ms: time to re-sign ROTATE workload SVIDs on one agent (its
 *   own process: keys made on the agent, CSRs, signing batches of
 *   SIGN_BATCH, 4 in flight, every SVID checked), until all are replaced.
 *   The server (in this process, SQLite) has its per-agent signing rate limit
 *   raised from the default 500/s to SIGNING_RATE (it would otherwise cap
 *   the rotation at ROTATE / 500 s).
 * - rss_mib_1000_svids: the agent CLI process's RSS with RSS_SVIDS cached SVIDs
 *   (rss_mib_0_svids: the same process before any entry, for the baseline
 *   of Node and the tsx loader).
 *
 *   node --import tsx bench/agent.bench.ts
 *   (CLIENTS=100 CALLS=20 PACED_MS=200 ROTATE=10000 SIGN_BATCH=500 RSS_SVIDS=1000 SIGNING_RATE=1000000)
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { Client } from 'undici';
import { loadServerConfig } from '../src/server/config.js';
import { startServer, type RunningServer } from '../src/server/server.js';
import { createInterface } from 'node:readline';
import { loadavg } from 'node:os';

const CLIENTS = Number(process.env.CLIENTS ?? 100);
const CALLS = Number(process.env.CALLS ?? 20);
const PACED_MS = Number(process.env.PACED_MS ?? 200);
const ROTATE = Number(process.env.ROTATE ?? 10_000);
const SIGN_BATCH = Number(process.env.SIGN_BATCH ?? 500);
const RSS_SVIDS = Number(process.env.RSS_SVIDS ?? 1000);
const SIGNING_RATE = Number(process.env.SIGNING_RATE ?? 1_000_000);
const TD = 'example.org';
const AGENT_CLI = fileURLToPath(new URL('../src/cli/bin.ts', import.meta.url));
const BENCH_AGENT = fileURLToPath(new URL('../test/agent/support/bench-agent.ts', import.meta.url));
const FETCH_LOAD = fileURLToPath(new URL('../test/agent/support/fetch-load.ts', import.meta.url));

const dir = mkdtempSync(join(tmpdir(), 'mw-agent-bench-'));
const server = await startServer(loadServerConfig({ env: {}, flags: { trust_domain: TD, data_dir: join(dir, 'server'), bind: '127.0.0.1:0', health_bind: '127.0.0.1:0', log_level: 'silent', 'rate_limits.signing_per_second': String(SIGNING_RATE) } }));
const bundlePath = join(dir, 'bundle.pem');
writeFileSync(bundlePath, server.ctx.ca.bundle().toPem());

async function admin(method: string, path: string, body?: unknown): Promise<any> {
  const c = new Client('http://localhost', { socketPath: server.adminSocket, headersTimeout: 600_000, bodyTimeout: 600_000 });
  try {
    const r = await c.request({ method: method as 'POST', path, ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }) });
    const text = await r.body.text();
    if (r.statusCode !== 200) throw new Error(`${path}: ${r.statusCode} ${text.slice(0, 300)}`);
    return JSON.parse(text);
  } finally {
    await c.close();
  }
}

async function entries(parentId: string, count: number, prefix: string): Promise<void> {
  for (let i = 0; i < count; i += 1000) {
    const batch = Array.from({ length: Math.min(1000, count - i) }, (_, k) => ({ spiffeId: `spiffe://${TD}/${prefix}/${i + k}`, parentId, selectors: [{ type: 'unix', value: i + k === 0 ? 'uid:0' : `uid:${100_000 + i + k}` }] }));
    await admin('POST', '/v1/entries', { entries: batch });
  }
}

const pct = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const round = (n: number): number => Math.round(n * 1000) / 1000;
const result: Record<string, unknown> = { bench: 'agent', node: process.version, loadavg_start: loadavg().map((l) => Math.round(l * 100) / 100) };

/** A child process speaking JSON lines (bench-agent.ts). */
function lines(child: ReturnType<typeof spawn>): () => Promise<string> {
  const queue: string[] = [];
  const waiting: Array<(l: string) => void> = [];
  let closed = false;
  const rl = createInterface({ input: child.stdout! });
  rl.on('line', (l) => (waiting.length > 0 ? waiting.shift()!(l) : queue.push(l)));
  rl.on('close', () => {
    closed = true;
    for (const w of waiting.splice(0)) w(JSON.stringify({ error: 'the child process exited' }));
  });
  return () => (queue.length > 0 ? Promise.resolve(queue.shift()!) : closed ? Promise.resolve(JSON.stringify({ error: 'the child process exited' })) : new Promise((r) => waiting.push(r)));
}

try {
  // 1. Rotation of ROTATE SVIDs on one agent (its own process).
  {
    const { token } = await admin('POST', '/v1/join-tokens', {});
    const agentDir = join(dir, 'agent-rotate');
    const child = spawn(process.execPath, ['--import', 'tsx', BENCH_AGENT, '--server_urls', server.urls.api, '--join_token', token, '--trust_bundle_path', bundlePath, '--socket_path', join(agentDir, 'agent.sock'), '--data_dir', join(agentDir, 'data'), '--health_bind', 'off', '--metrics_bind', 'off', '--sign_batch_size', String(SIGN_BATCH)], { stdio: ['pipe', 'pipe', 'inherit'] });
    try {
      const next = lines(child);
      const ready = await next();
      const agentId = /^READY (\S+)/.exec(ready)?.[1];
      if (agentId === undefined) throw new Error(`rotation agent did not start: ${ready}`);
      const createStart = Date.now();
      await entries(agentId, ROTATE, 'rot');
      result.entries_create_ms = Date.now() - createStart;
      child.stdin!.write(`wait ${ROTATE}\n`);
      await next();
      const cpu0 = process.cpuUsage();
      child.stdin!.write('rotate\n');
      const r = JSON.parse(await next()) as { rotated: number; ms: number; agentCpuMs: number; error?: string };
      const cpu = process.cpuUsage(cpu0);
      if (r.error !== undefined) throw new Error(`rotation agent: ${r.error}`);
      result.rotate_10000_ms = ROTATE === 10_000 ? r.ms : undefined;
      result.rotate_svids = r.rotated;
      result.rotate_ms = r.ms;
      result.rotate_goal_ms = 10_000;
      result.rotate_agent_cpu_ms = r.agentCpuMs;
      result.rotate_server_cpu_ms = Math.round((cpu.user + cpu.system) / 1000); // this process: the server (and its SQLite thread)
      result.rotate_sign_batch = SIGN_BATCH;
      result.server_signing_rate_limit_per_s = SIGNING_RATE;
      result.server_signing_rate_limit_note = 'raised from the default 500/s for this bench';
      child.stdin!.write('exit\n');
    } finally {
      await new Promise((r) => {
        child.once('exit', r);
        setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
      });
    }
  }

  // 2 and 3. An agent process with RSS_SVIDS entries: RSS, then FetchX509SVID latency.
  {
    const { token } = await admin('POST', '/v1/join-tokens', {});
    const agentDir = join(dir, 'agent-proc');
    const child = spawn(process.execPath, ['--import', 'tsx', AGENT_CLI, 'agent', 'run', '--server', server.urls.api, '--join-token', token, '--trust-bundle', bundlePath, '--socket', join(agentDir, 'agent.sock'), '--data-dir', join(agentDir, 'data'), '--health-bind', 'off', '--metrics-bind', '127.0.0.1:0', '--log-level', 'error', '--rate-limit-per-second', '1000000', '--rate-limit-burst', '1000000'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    while (!/metrics\s+http/.test(out)) await new Promise((r) => setTimeout(r, 50));
    const agentId = /meshward agent running: (\S+)/.exec(out)![1]!;
    const metricsUrl = /metrics\s+(http:\/\/\S+)/.exec(out)![1]!;
    const rssOf = (pid: number): number => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
    await new Promise((r) => setTimeout(r, 1000));
    result.rss_mib_0_svids = Math.round(rssOf(child.pid!) * 10) / 10;
    await entries(agentId, RSS_SVIDS, 'rss');
    for (;;) {
      const m = await (await fetch(metricsUrl)).text();
      if (Number(/meshward_agent_cached_svids (\d+)/.exec(m)?.[1] ?? 0) >= RSS_SVIDS) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 1000));
    const rss = rssOf(child.pid!);
    result.rss_mib_1000_svids = RSS_SVIDS === 1000 ? Math.round(rss * 10) / 10 : undefined;
    result.rss_cached_svids = RSS_SVIDS;
    result.rss_mib = Math.round(rss * 10) / 10;

    try {
      const load = spawn(process.execPath, ['--import', 'tsx', FETCH_LOAD, join(agentDir, 'agent.sock'), String(CLIENTS), String(CALLS), String(PACED_MS), String(child.pid)], { stdio: ['ignore', 'pipe', 'inherit'] });
      const r = JSON.parse(await lines(load)()) as { error?: string; connect?: number[]; stream?: number[]; paced?: number[]; raw?: number[]; streamWallMs: number; pacedWallMs?: number; streamAgentCpuMs: number; pacedAgentCpuMs?: number };
      if (r.error !== undefined) throw new Error(`fetch load: ${r.error}`);
      const stream = r.stream!;
      result.fetch_x509_mode = `first message of a fresh FetchX509SVID stream on a warm connection; ${CLIENTS} stock grpc-js clients, one connection each, in another process; closed loop, ${CALLS} streams per client`;
      result.fetch_x509_p50_ms = round(pct(stream, 50));
      result.fetch_x509_p99_ms = round(pct(stream, 99));
      result.fetch_x509_p99_goal_ms = 2;
      result.fetch_x509_per_second = Math.round(stream.length / (r.streamWallMs / 1000));
      result.agent_cpu_ms_per_fetch = round(r.streamAgentCpuMs / stream.length);
      if (r.paced !== undefined) {
        result.fetch_x509_paced_per_second = Math.round((CLIENTS * 1000) / PACED_MS);
        result.fetch_x509_paced_p50_ms = round(pct(r.paced, 50));
        result.fetch_x509_paced_p99_ms = round(pct(r.paced, 99));
      }
      result.fetch_x509_new_connection_p50_ms = round(pct(r.connect!, 50));
      result.fetch_x509_new_connection_p99_ms = round(pct(r.connect!, 99));
      if (r.raw !== undefined) {
        result.fetch_x509_new_connection_raw_p50_ms = round(pct(r.raw, 50));
        result.fetch_x509_new_connection_raw_p99_ms = round(pct(r.raw, 99));
      }
      result.first_answer_goal_ms = 5;
    } finally {
      // Wait for it: a child still writing to our stdout after we exit dies of EPIPE.
      await new Promise((r) => {
        child.once('exit', r);
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
      });
    }
  }
} catch (err) {
  result.error = (err as Error).message;
} finally {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
}
result.loadavg_end = loadavg().map((l) => Math.round(l * 100) / 100);
process.stdout.write(JSON.stringify(result) + '\n');
process.exit(0);
