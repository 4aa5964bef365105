/**
 * Server benchmark, end to end over real mTLS: workload X.509-SVIDs signed
 * through the agent API by 50 concurrent callers (50 attested agents, one
 * keep-alive connection each), one SVID per request and in batches; and the
 * listing of one agent's authorized entries among 10,000 (through the
 * EntryIndex in process, and through GET /agent/v1/entries).
 *
 * The server runs in a child process (SQLite in a temp dir), so client and
 * server each get a core. Prints one JSON line.
 *
 *   node --import tsx bench/server.bench.ts            (SIGN_SECONDS=5 CALLERS=50 BATCH=50)
 */
import { fork, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, request } from 'undici';
import { createCsr } from '../src/ca/csr-builder.js';
import { loadServerConfig } from '../src/server/config.js';
import { MemoryEntryIndex } from '../src/server/entry-index.js';
import { startServer } from '../src/server/server.js';
import { authorizeId } from '../src/spiffe/authorizers.js';
import { Bundle } from '../src/spiffe/bundle.js';
import { encodePem } from '../src/spiffe/pem.js';
import { X509Svid } from '../src/spiffe/x509/x509-svid.js';
import { openSqliteDatastore } from '../src/store/sqlite/open-sqlite.js';
import type { NewEntry } from '../src/store/types.js';
import { MtlsAgent } from '../src/workload/mtls-agent.js';
import { StaticX509Source } from '../src/workload/static-source.js';

const TD = 'bench.example';
const SIGN_SECONDS = Number(process.env.SIGN_SECONDS ?? 5);
const CALLERS = Number(process.env.CALLERS ?? 50);
const BATCH = Number(process.env.BATCH ?? 50);
const TOTAL_ENTRIES = 10_000;
const LIST_SAMPLES = 2000;

// ---- child: the server ----
if (process.argv[2] === '--child') {
  const dataDir = process.argv[3]!;
  const config = loadServerConfig({
    env: {},
    flags: {
      trust_domain: TD,
      data_dir: dataDir,
      bind: '127.0.0.1:0',
      health_bind: '127.0.0.1:0',
      log_level: 'warn',
      // The default (500 SVIDs/s per agent) would cap the batched run; the bench measures the server, not the limit.
      'rate_limits.signing_per_second': '1000000',
      'rate_limits.attestation_per_second': '1000',
    },
  });
  const server = await startServer(config);
  process.send!({ api: server.urls.api, adminSocket: server.adminSocket, bundle: JSON.stringify(server.ctx.ca.bundle().toJSON()) });
  process.on('message', (m) => {
    if (m === 'stop') void server.close().then(() => process.exit(0));
  });
} else {
  await main();
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mw-bench-'));
  const dataDir = join(dir, 'data');
  const child = fork(fileURLToPath(import.meta.url), ['--child', dataDir], { execArgv: ['--import', 'tsx', ...(process.env.BENCH_PROF ? ['--cpu-prof', '--cpu-prof-dir=' + process.env.BENCH_PROF] : [])], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    const info = await new Promise<{ api: string; adminSocket: string; bundle: string }>((resolve, reject) => {
      child.once('message', (m) => resolve(m as { api: string; adminSocket: string; bundle: string }));
      child.once('exit', (code) => reject(new Error(`server exited ${code}`)));
    });
    const result = await run(info, dataDir);
    process.stdout.write(JSON.stringify({ bench: 'server', ...result }) + '\n');
  } finally {
    await stop(child);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  child.send('stop');
  await new Promise((r) => {
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      r(undefined);
    }, 5000);
    child.once('exit', () => {
      clearTimeout(t);
      r(undefined);
    });
  });
}

async function run(info: { api: string; adminSocket: string; bundle: string }, dataDir: string): Promise<Record<string, unknown>> {
  const admin = new Client('http://localhost', { socketPath: info.adminSocket });
  const adminPost = async (path: string, body: unknown): Promise<any> => {
    const r = await admin.request({ method: 'POST', path, body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    const text = await r.body.text();
    if (r.statusCode !== 200) throw new Error(`${path}: ${r.statusCode} ${text}`);
    return JSON.parse(text);
  };
  const bundle = Bundle.parse(info.bundle, TD);
  const serverId = `spiffe://${TD}/meshward/server`;

  // 50 agents, attested over the API.
  const anon = new (await import('undici')).Agent({ connect: { ca: bundle.toPem(), checkServerIdentity: () => undefined } });
  const agents: Array<{ id: string; client: MtlsAgent; entryId: string }> = [];
  for (let i = 0; i < CALLERS; i++) {
    const { token } = await adminPost('/v1/join-tokens', {});
    const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const csr = encodePem('CERTIFICATE REQUEST', createCsr(key.privateKey, key.publicKey));
    const r = await request(`${info.api}/agent/v1/attest`, { method: 'POST', dispatcher: anon, body: JSON.stringify({ joinToken: token, csr }), headers: { 'content-type': 'application/json' } });
    const body = (await r.body.json()) as { spiffeId: string; chainPem: string };
    const svid = X509Svid.parse(body.chainPem, key.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
    agents.push({ id: body.spiffeId, client: new MtlsAgent({ source: new StaticX509Source(svid, bundle), authorize: authorizeId(serverId), agentOptions: { connections: 1 } }), entryId: '' });
  }
  await anon.close();

  // 10,000 entries: 100 per "agent" for 100 parents (our 50 agents among them).
  const parents = Array.from({ length: 100 }, (_, i) => (i < agents.length ? agents[i]!.id : `spiffe://${TD}/meshward/agent/join_token/idle-${i}`));
  const entries: Array<Partial<NewEntry>> = [];
  for (let i = 0; i < TOTAL_ENTRIES; i++) entries.push({ spiffeId: `spiffe://${TD}/svc/${i}`, parentId: parents[i % parents.length]!, selectors: [{ type: 'unix', value: `uid:${i}` }] });
  const createStart = process.hrtime.bigint();
  for (let i = 0; i < entries.length; i += 1000) {
    const res = await adminPost('/v1/entries', { entries: entries.slice(i, i + 1000) });
    for (const [j, r] of (res.results as Array<{ status: string; entry: { id: string; parentId: string } }>).entries()) {
      if (r.status !== 'ok') throw new Error('entry create failed');
      const idx = (i + j) % parents.length;
      if (idx < agents.length && agents[idx]!.entryId === '') agents[idx]!.entryId = r.entry.id;
    }
  }
  const createSeconds = Number(process.hrtime.bigint() - createStart) / 1e9;
  await admin.close();
  await new Promise((r) => setTimeout(r, 500)); // the server's index catches up with the change log

  // CSRs: one per caller, reused (the server checks every CSR's signature anyway).
  const csrs = agents.map(() => {
    const k = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    return encodePem('CERTIFICATE REQUEST', createCsr(k.privateKey, k.publicKey));
  });

  const signRun = async (batch: number): Promise<{ svidsPerSecond: number; requestsPerSecond: number; p50Ms: number; p99Ms: number; errors: number }> => {
    const end = Date.now() + SIGN_SECONDS * 1000;
    let svids = 0;
    let requests = 0;
    let errors = 0;
    const latencies: number[] = [];
    await Promise.all(
      agents.map(async (a, i) => {
        const body = JSON.stringify({ requests: Array.from({ length: batch }, () => ({ entryId: a.entryId, csr: csrs[i]! })) });
        while (Date.now() < end) {
          const t0 = performance.now();
          const r = await request(`${info.api}/agent/v1/sign`, { method: 'POST', dispatcher: a.client, body, headers: { 'content-type': 'application/json' } });
          const text = await r.body.text();
          latencies.push(performance.now() - t0);
          requests++;
          if (r.statusCode === 200) svids += batch;
          else if (errors++ === 0) process.stderr.write(`sign: ${r.statusCode} ${text.slice(0, 200)}\n`);
        }
      }),
    );
    return { svidsPerSecond: Math.round(svids / SIGN_SECONDS), requestsPerSecond: Math.round(requests / SIGN_SECONDS), ...percentiles(latencies), errors };
  };
  // Warm up connections and JIT.
  await signRunShort(agents, info.api, csrs);
  const single = await signRun(1);
  const batched = await signRun(BATCH);

  // Listing over HTTP: one agent with 100 entries among 10,000.
  const lister = agents[0]!;
  const httpLat: number[] = [];
  let listed = 0;
  for (let i = 0; i < LIST_SAMPLES; i++) {
    const t0 = performance.now();
    const r = await request(`${info.api}/agent/v1/entries`, { dispatcher: lister.client });
    const body = (await r.body.json()) as { entries: unknown[] };
    httpLat.push(performance.now() - t0);
    listed = body.entries.length;
  }

  // Listing through the EntryIndex, in process, over the same SQLite file.
  const store = await openSqliteDatastore(join(dataDir, 'datastore.sqlite3'));
  const index = new MemoryEntryIndex(store, { serverId, selectorsOf: () => [], now: () => Math.floor(Date.now() / 1000), poll: async () => undefined });
  const loadStart = performance.now();
  await index.load();
  const loadMs = performance.now() - loadStart;
  const indexLat: number[] = [];
  for (let i = 0; i < 20_000; i++) {
    const t0 = performance.now();
    index.authorizedEntriesOf(parents[i % parents.length]!);
    indexLat.push(performance.now() - t0);
  }
  await store.close();
  for (const a of agents) await a.client.close();

  return {
    callers: CALLERS,
    seconds: SIGN_SECONDS,
    sign_single: single,
    sign_batched: { batch: BATCH, ...batched },
    entries_total: index.size,
    entries_created_per_second_via_admin_socket: Math.round(TOTAL_ENTRIES / createSeconds),
    list_authorized_http: { entries: listed, ...percentiles(httpLat) },
    list_authorized_index: { entries: index.authorizedEntriesOf(parents[0]!).length, p50Us: round(pct(indexLat, 0.5) * 1000), p99Us: round(pct(indexLat, 0.99) * 1000), loadMs: round(loadMs) },
    node: process.version,
  };
}

async function signRunShort(agents: Array<{ client: MtlsAgent; entryId: string }>, api: string, csrs: string[]): Promise<void> {
  await Promise.all(
    agents.map(async (a, i) => {
      for (let k = 0; k < 10; k++) {
        const r = await request(`${api}/agent/v1/sign`, { method: 'POST', dispatcher: a.client, body: JSON.stringify({ requests: [{ entryId: a.entryId, csr: csrs[i]! }] }), headers: { 'content-type': 'application/json' } });
        await r.body.dump();
      }
    }),
  );
}

function pct(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
}

function percentiles(values: number[]): { p50Ms: number; p99Ms: number } {
  return { p50Ms: round(pct(values, 0.5)), p99Ms: round(pct(values, 0.99)) };
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
