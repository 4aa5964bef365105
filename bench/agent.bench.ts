/**
 * Agent benchmark: FetchX509SVID answered from cache for 100 concurrent
 * stock grpc-js clients (time to the first message of a new stream, p50 and
 * p99); the time to sign 10,000 workload SVIDs on one agent (keys made on
 * the agent, CSRs signed in batches; the same work as rotating them all);
 * and the agent's RSS with 1,000 cached SVIDs (agent as its own process).
 *
 * The server runs in this process (SQLite in a temp dir) with its signing
 * rate limit raised. Prints one JSON line.
 *
 *   node --import tsx bench/agent.bench.ts     (CLIENTS=100 CALLS=20 ROTATE=10000 RSS_SVIDS=1000)
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { Client } from 'undici';
import { startAgent } from '../src/agent/agent.js';
import { loadAgentConfig } from '../src/agent/config.js';
import { loadServerConfig } from '../src/server/config.js';
import { startServer, type RunningServer } from '../src/server/server.js';
import { firstMessages, securityHeader, workloadClient } from '../test/agent/support/grpc-client.js';

const CLIENTS = Number(process.env.CLIENTS ?? 100);
const CALLS = Number(process.env.CALLS ?? 20);
const ROTATE = Number(process.env.ROTATE ?? 10_000);
const RSS_SVIDS = Number(process.env.RSS_SVIDS ?? 1000);
const TD = 'example.org';
const AGENT_CLI = fileURLToPath(new URL('../test/agent/support/agent-cli.ts', import.meta.url));

const dir = mkdtempSync(join(tmpdir(), 'mw-agent-bench-'));
const server = await startServer(loadServerConfig({ env: {}, flags: { trust_domain: TD, data_dir: join(dir, 'server'), bind: '127.0.0.1:0', health_bind: '127.0.0.1:0', log_level: 'silent', 'rate_limits.signing_per_second': '1000000' } }));
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
const result: Record<string, unknown> = { bench: 'agent', node: process.version };

try {
  // 1. Rotation of ROTATE SVIDs on one in-process agent.
  {
    const { token } = await admin('POST', '/v1/join-tokens', {});
    const agentDir = join(dir, 'agent-rotate');
    const config = loadAgentConfig({ env: {}, flags: { server_urls: server.urls.api, join_token: token, trust_bundle_path: bundlePath, socket_path: join(agentDir, 'agent.sock'), data_dir: join(agentDir, 'data'), health_bind: 'off', metrics_bind: 'off', sign_batch_size: '1000' } });
    const agent = await startAgent(config, { logger: pino({ level: 'silent' }) });
    const createStart = Date.now();
    await entries(agent.identity.svid!.id.toString(), ROTATE, 'rot');
    result.entriesCreateMs = Date.now() - createStart;
    while (agent.cache.entryCount < ROTATE) await new Promise((r) => setTimeout(r, 20));
    while (agent.cache.svidCount > 0 || agent.rotator.due().length > 0) {
      await agent.rotator.idle();
      if (agent.cache.svidCount === ROTATE) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    // Measure a full rotation: every cached SVID due at once.
    const t0 = process.hrtime.bigint();
    const serials = new Set([...agent.cache.svids()].map((s) => s.serialNumber));
    agent.rotator.rotateAll();
    for (;;) {
      await new Promise((r) => setTimeout(r, 10));
      await agent.rotator.idle();
      if ([...agent.cache.svids()].every((s) => !serials.has(s.serialNumber)) && agent.cache.svidCount === ROTATE) break;
    }
    result.rotateSvids = ROTATE;
    result.rotateMs = Math.round(Number(process.hrtime.bigint() - t0) / 1e6);
    await agent.close();
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
    await entries(agentId, RSS_SVIDS, 'rss');
    for (;;) {
      const m = await (await fetch(metricsUrl)).text();
      if (Number(/meshward_agent_cached_svids (\d+)/.exec(m)?.[1] ?? 0) >= RSS_SVIDS) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 1000));
    const rss = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]) / 1024;
    result.rssCachedSvids = RSS_SVIDS;
    result.rssMiB = Math.round(rss * 10) / 10;

    const socket = join(agentDir, 'agent.sock');
    const clients = Array.from({ length: CLIENTS }, () => workloadClient(socket));
    await Promise.all(clients.map((c) => firstMessages(c.FetchX509SVID({}, securityHeader()), 1))); // warm connections
    const latencies: number[] = [];
    const t0 = Date.now();
    await Promise.all(
      clients.map(async (c) => {
        for (let i = 0; i < CALLS; i++) {
          const start = process.hrtime.bigint();
          await firstMessages(c.FetchX509SVID({}, securityHeader()), 1);
          latencies.push(Number(process.hrtime.bigint() - start) / 1e6);
        }
      }),
    );
    const elapsed = Date.now() - t0;
    latencies.sort((a, b) => a - b);
    result.fetchClients = CLIENTS;
    result.fetchCalls = latencies.length;
    result.fetchP50Ms = round(pct(latencies, 50));
    result.fetchP99Ms = round(pct(latencies, 99));
    result.fetchPerSecond = Math.round(latencies.length / (elapsed / 1000));
    for (const c of clients) c.close();
    child.kill('SIGTERM');
  }
} catch (err) {
  result.error = (err as Error).message;
} finally {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
}
process.stdout.write(JSON.stringify(result) + '\n');
process.exit(0);
