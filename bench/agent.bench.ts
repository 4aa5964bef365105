/**
 * Agent benchmark, one JSON line (figures beside their goals, issue 4):
 *
 * - fetch_x509_lean / fetch_x509_lean_pinned (the headline): FetchX509SVID
 *   answered from cache. "100 concurrent clients" = CLIENTS clients, each
 *   with its own connection (so its own attestation), spread over
 *   LOAD_PROCESSES processes apart from the agent
 *   (test/agent/support/fetch-lean.ts). The clients write raw HTTP/2 frames
 *   (raw-h2-client.ts): no grpc-js, no protobuf, not even node:http2's
 *   client, whose CPU per fetch is 2–4× the agent's. A fetch is the time
 *   from writing a fresh stream's request on the warm connection to the first
 *   complete gRPC message, then RST_STREAM CANCEL. The agent is the real CLI
 *   process with RSS_SVIDS cached SVIDs; each client matches one.
 *     closed: every client opens its next stream as soon as the last answered
 *       (LEAN_CALLS each). A closed loop of 100 always has p50 ≈ 100 /
 *       throughput (Little's law): it measures throughput, not latency.
 *     paced_<rate>: open loop — each client starts a fetch every
 *       CLIENTS × 1000 / rate ms (first at a random offset) for PACED_SECONDS,
 *       whether or not its last one answered, so `rate` fetches/s arrive from
 *       100 connected clients; this is the reading of the p99 ≤ 2 ms goal.
 *       send_lag_p99_ms: how late the load itself sent (its own delays).
 *     floor_paced_<rate>: right after each agent rate, the same load against
 *       a bare node:http2 server answering cached bytes (http2-floor.ts): what
 *       node:http2, the load and this machine cost without the agent.
 *     _pinned: the servers' threads on CPU 0, the load and this process (the
 *       control-plane server) on the other CPUs (taskset).
 *     agent_cpu_ms_per_fetch / server_cpu_ms_per_fetch / load_cpu_ms_per_fetch:
 *       CPU time (/proc, all threads) over fetches; others_cpu_pct: what the
 *       rest of the machine used meanwhile (other work sharing it: the noise
 *       of that figure).
 *   fetch_x509_paced_goal_met_per_second: the paced rates whose p99 ≤ 2 ms.
 * - grpcjs_*: the same fetches from 100 stock grpc-js clients (proto-loader,
 *   one channel each, all in one process: test/agent/support/fetch-load.ts),
 *   evidence that the real client works: closed loop (CALLS each), paced at
 *   CLIENTS × 1000 / PACED_MS a second, and new connections all at once.
 *   The grpc-js client spends ~1.5 ms CPU per fetch on the same two cores,
 *   so these latencies are mostly the client's.
 * - fetch_x509_new_connection_raw_*: one new connection at a time from a
 *   plain node:http2 client (connect, attestation, first message: the
 *   agent's side of "a first answer within 5 ms").
 * - rotate_10000_ms: time to re-sign ROTATE workload SVIDs on one agent (its
 *   own process: keys made on the agent, CSRs, signing batches of
 *   SIGN_BATCH, 4 in flight, every SVID checked), until all are replaced.
 *   The server (in this process, SQLite) has its per-agent signing rate limit
 *   raised from the default 500/s to SIGNING_RATE (it would otherwise cap
 *   the rotation at ROTATE / 500 s). ROTATE=0 skips it.
 * - rss_mib_1000_svids: the agent CLI process's RSS with RSS_SVIDS cached SVIDs
 *   (rss_mib_0_svids: the same process before any entry, for the baseline
 *   of Node and the tsx loader).
 *
 *   node --import tsx bench/agent.bench.ts
 *   (CLIENTS=100 LOAD_PROCESSES=2 LEAN_CALLS=50 RATES=500,1000,2000 PACED_SECONDS=5 PIN=1
 *    CALLS=20 PACED_MS=200 ROTATE=10000 SIGN_BATCH=500 RSS_SVIDS=1000 SIGNING_RATE=1000000;
 *    GRPCJS=0 skips the grpc-js phase; AGENT_NODE_ARGS adds node flags to the agent, e.g. --cpu-prof
 *    or --trace-gc, whose output AGENT_STDOUT=file keeps)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from 'undici';
import { loadServerConfig } from '../src/server/config.js';
import { startServer } from '../src/server/server.js';
import { jsonLines } from '../test/agent/support/json-lines.js';
import { cpus, loadavg } from 'node:os';
import { LeanLoad, cpuMsOf, machineBusyMs, pinProcess, type LeanAnswer } from '../test/agent/support/lean-load.js';

const CLIENTS = Number(process.env.CLIENTS ?? 100);
const CALLS = Number(process.env.CALLS ?? 20);
const PACED_MS = Number(process.env.PACED_MS ?? 200);
const ROTATE = Number(process.env.ROTATE ?? 10_000);
const SIGN_BATCH = Number(process.env.SIGN_BATCH ?? 500);
const RSS_SVIDS = Number(process.env.RSS_SVIDS ?? 1000);
const SIGNING_RATE = Number(process.env.SIGNING_RATE ?? 1_000_000);
/** Lean load: processes the CLIENTS are spread over; paced rates (fetches/s across all clients); seconds per rate. */
const LOAD_PROCESSES = Number(process.env.LOAD_PROCESSES ?? 2);
const RATES = (process.env.RATES ?? '500,1000,2000').split(',').map(Number);
const PACED_SECONDS = Number(process.env.PACED_SECONDS ?? 5);
const LEAN_CALLS = Number(process.env.LEAN_CALLS ?? 50);
/** PIN=0 skips the pinned runs (agent on CPU 0, load and this process on the others). */
const PIN = process.env.PIN !== '0' && cpus().length >= 2;
/** Extra node flags for the agent process (e.g. AGENT_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof"). */
const AGENT_NODE_ARGS = (process.env.AGENT_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
/** A file for the agent's stdout (e.g. with AGENT_NODE_ARGS=--trace-gc). */
const AGENT_STDOUT = process.env.AGENT_STDOUT;
const TD = 'example.org';
const AGENT_CLI = fileURLToPath(new URL('../src/cli/bin.ts', import.meta.url));
const BENCH_AGENT = fileURLToPath(new URL('../test/agent/support/bench-agent.ts', import.meta.url));
const HTTP2_FLOOR = fileURLToPath(new URL('../test/agent/support/http2-floor.ts', import.meta.url));
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
const lines = (child: ReturnType<typeof spawn>): (() => Promise<string>) => jsonLines(child, 'the child process');

/** GRPCJS=0: the rest of the run is skipped on purpose (quick lean-only runs). */
class Skip extends Error {}
const ALL_CPUS = `0-${cpus().length - 1}`;

/** What one lean phase shows: latency from sending, the load's own delays, CPU per fetch on each side. */
function summary(a: LeanAnswer, serverCpuKey: string, serverCpuMs: number, otherCpuMs: number): Record<string, number> {
  const n = a.lat.length;
  return {
    fetches: n,
    errors: a.errors,
    per_second: Math.round(n / (a.wallMs / 1000)),
    p50_ms: round(pct(a.lat, 50)),
    p99_ms: round(pct(a.lat, 99)),
    p999_ms: round(pct(a.lat, 99.9)),
    max_ms: round(a.lat[n - 1] ?? 0),
    [serverCpuKey]: round(serverCpuMs / n),
    load_cpu_ms_per_fetch: round(a.cpuMs / n),
    load_loop_delay_max_ms: round(a.loopMaxMs),
    ...(a.lag.length > 0 ? { send_lag_p99_ms: round(pct(a.lag, 99)) } : {}),
    // CPU used meanwhile by everything else on the machine (other work sharing it): the noise.
    others_cpu_pct: Math.round((otherCpuMs / a.wallMs) * 100),
  };
}

/** A server under lean load: the agent, or the bare node:http2 floor. */
interface Target {
  readonly pid: number;
  readonly load: LeanLoad;
  /** Prefix of its figures' names, and the name of its CPU figure. */
  readonly prefix: string;
  readonly cpuKey: string;
}

/**
 * Closed loop (the agent only), then each paced rate — the agent, then the
 * floor under the same load, back to back so that both see the same machine —
 * with the servers and the load pinned apart or not.
 */
async function leanPhases(targets: readonly Target[], pinned: boolean): Promise<Record<string, unknown>> {
  const rest = `1-${cpus().length - 1}`;
  for (const t of targets) {
    pinProcess(t.pid, pinned ? '0' : ALL_CPUS);
    t.load.pin(pinned ? rest : ALL_CPUS);
  }
  pinProcess(process.pid, pinned ? rest : ALL_CPUS);
  const out: Record<string, unknown> = { server_cpus: pinned ? '0' : ALL_CPUS, load_cpus: pinned ? rest : ALL_CPUS };
  const phase = async (t: Target, name: string, command: string): Promise<void> => {
    const server0 = cpuMsOf(t.pid);
    const self0 = process.cpuUsage();
    const busy0 = machineBusyMs();
    const a = await t.load.run(command);
    const serverMs = cpuMsOf(t.pid) - server0;
    const self = process.cpuUsage(self0);
    const others = machineBusyMs() - busy0 - serverMs - a.cpuMs - (self.user + self.system) / 1000;
    out[t.prefix + name] = summary(a, t.cpuKey, serverMs, Math.max(0, others));
  };
  await phase(targets[0]!, 'closed', `closed ${LEAN_CALLS}`);
  for (const rate of RATES) {
    for (const t of targets) await phase(t, `paced_${rate}`, `paced ${(t.load.clients * 1000) / rate} ${PACED_SECONDS * 1000}`);
  }
  return out;
}

/** The floor server in its own process (test/agent/support/http2-floor.ts), once it listens. */
async function startFloor(socketPath: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', HTTP2_FLOOR, socketPath], { stdio: ['ignore', 'pipe', 'inherit'] });
  const ready = await lines(child)();
  if (ready !== 'ready') throw new Error(`the floor server did not start: ${ready}`);
  return child;
}

try {
  // 1. Rotation of ROTATE SVIDs on one agent (its own process). ROTATE=0 skips it.
  if (ROTATE > 0) {
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
    const child = spawn(process.execPath, [...AGENT_NODE_ARGS, '--import', 'tsx', AGENT_CLI, 'agent', 'run', '--server', server.urls.api, '--join-token', token, '--trust-bundle', bundlePath, '--socket', join(agentDir, 'agent.sock'), '--data-dir', join(agentDir, 'data'), '--health-bind', 'off', '--metrics-bind', '127.0.0.1:0', '--log-level', 'error', '--rate-limit-per-second', '1000000', '--rate-limit-burst', '1000000'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    if (AGENT_STDOUT !== undefined) child.stdout!.pipe(createWriteStream(AGENT_STDOUT));
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
      const sock = join(agentDir, 'agent.sock');
      // Lean load first (the headline), then the stock grpc-js clients (interop evidence).
      const lean = new LeanLoad(sock, CLIENTS, LOAD_PROCESSES);
      const floorSock = join(dir, 'floor.sock');
      const floor = await startFloor(floorSock);
      const floorLoad = new LeanLoad(floorSock, CLIENTS, LOAD_PROCESSES);
      const targets: Target[] = [
        { pid: child.pid!, load: lean, prefix: '', cpuKey: 'agent_cpu_ms_per_fetch' },
        { pid: floor.pid!, load: floorLoad, prefix: 'floor_', cpuKey: 'server_cpu_ms_per_fetch' },
      ];
      try {
        await lean.run('connect');
        await floorLoad.run('connect');
        result.fetch_x509_lean_mode = `first complete message of a fresh FetchX509SVID stream on a warm (attested) connection, then RST_STREAM CANCEL; ${CLIENTS} clients speaking raw HTTP/2 frames, one connection each, in ${LOAD_PROCESSES} processes apart from the agent; floor_*: the same load against a bare node:http2 server answering cached bytes`;
        result.fetch_x509_p99_goal_ms = 2;
        const met: Record<string, number[]> = {};
        for (const pinned of PIN ? [false, true] : [false]) {
          const figures = await leanPhases(targets, pinned);
          result[pinned ? 'fetch_x509_lean_pinned' : 'fetch_x509_lean'] = figures;
          met[pinned ? 'pinned' : 'unpinned'] = RATES.filter((r) => ((figures[`paced_${r}`] as { p99_ms: number }).p99_ms) <= 2);
        }
        result.fetch_x509_paced_goal_met_per_second = met;
      } finally {
        for (const t of targets) pinProcess(t.pid, ALL_CPUS);
        pinProcess(process.pid, ALL_CPUS);
        await lean.close();
        await floorLoad.close();
        floor.kill('SIGTERM');
      }
      if (process.env.GRPCJS === '0') throw new Skip();
      const load = spawn(process.execPath, ['--import', 'tsx', FETCH_LOAD, sock, String(CLIENTS), String(CALLS), String(PACED_MS), String(child.pid)], { stdio: ['ignore', 'pipe', 'inherit'] });
      const r = JSON.parse(await lines(load)()) as { error?: string; connect?: number[]; stream?: number[]; paced?: number[]; raw?: number[]; streamWallMs: number; pacedWallMs?: number; streamAgentCpuMs: number; pacedAgentCpuMs?: number };
      if (r.error !== undefined) throw new Error(`fetch load: ${r.error}`);
      const stream = r.stream!;
      result.grpcjs_mode = `stock grpc-js clients (proto-loader, one channel and connection each, ${CLIENTS} in one process): first message of a fresh FetchX509SVID stream on a warm connection; the client library's CPU shares the cores with the agent`;
      result.grpcjs_closed_p50_ms = round(pct(stream, 50));
      result.grpcjs_closed_p99_ms = round(pct(stream, 99));
      result.grpcjs_closed_per_second = Math.round(stream.length / (r.streamWallMs / 1000));
      result.grpcjs_closed_agent_cpu_ms_per_fetch = round(r.streamAgentCpuMs / stream.length);
      if (r.paced !== undefined) {
        result.grpcjs_paced_per_second = Math.round((CLIENTS * 1000) / PACED_MS);
        result.grpcjs_paced_p50_ms = round(pct(r.paced, 50));
        result.grpcjs_paced_p99_ms = round(pct(r.paced, 99));
      }
      result.grpcjs_new_connection_p50_ms = round(pct(r.connect!, 50));
      result.grpcjs_new_connection_p99_ms = round(pct(r.connect!, 99));
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
  if (!(err instanceof Skip)) result.error = (err as Error).message;
} finally {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
}
result.loadavg_end = loadavg().map((l) => Math.round(l * 100) / 100);
process.stdout.write(JSON.stringify(result) + '\n');
process.exit(0);
