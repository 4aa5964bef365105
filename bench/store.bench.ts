/**
 * Datastore speed on SQLite (temp file) and PostgreSQL (a throwaway schema in
 * MESHWARD_TEST_PG_URL, default postgres://postgres@127.0.0.1:5432/test):
 * entries created per second, one per transaction and in batches of 100, and
 * listing one agent's entries (by parentId) among 10,000, p50/p99.
 * Prints one JSON line.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openPostgresDatastore, openSqliteDatastore, type Datastore, type NewEntry } from '../src/store/index.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const PG_URL = process.env.MESHWARD_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const BATCH = 100;
const PARENTS = 100; // 10,000 entries: 100 agents with 100 entries each
const LISTS = 300;

let counter = 0;
function entry(parent = 'spiffe://example.org/agent/bench'): NewEntry {
  const n = counter++;
  return {
    spiffeId: `spiffe://example.org/ns/bench/sa/w${n}`,
    parentId: parent,
    selectors: [
      { type: 'k8s', value: `ns:bench` },
      { type: 'k8s', value: `sa:w${n}` },
      { type: 'unix', value: `uid:${1000 + (n % 50)}` },
    ],
    x509SvidTtl: 3600,
    jwtSvidTtl: 300,
    dnsNames: [`w${n}.bench.svc`],
    admin: false,
    federatesWith: [],
    labels: { app: `w${n}` },
    hint: '',
    expiresAt: null,
  };
}

async function perSecond(work: () => Promise<number>): Promise<number> {
  let done = 0;
  const start = performance.now();
  while (performance.now() - start < SECONDS * 1000) done += await work();
  return Math.round(done / ((performance.now() - start) / 1000));
}

function percentile(sorted: number[], p: number): number {
  return Number(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!.toFixed(3));
}

async function measure(store: Datastore) {
  for (let i = 0; i < 50; i++) await store.createEntries([entry()], 1); // warm-up
  const single = await perSecond(async () => (await store.createEntries([entry()], 1)).length);
  const batch = await perSecond(async () => (await store.createEntries(Array.from({ length: BATCH }, () => entry()), 1)).length);

  // A fresh set of 10,000 entries under PARENTS agents, beside what the rates above created.
  const parents = Array.from({ length: PARENTS }, (_, i) => `spiffe://example.org/agent/p${i}`);
  for (const parent of parents) await store.createEntries(Array.from({ length: 10_000 / PARENTS }, () => entry(parent)), 1);
  const times: number[] = [];
  for (let i = 0; i < LISTS; i++) {
    const parent = parents[i % PARENTS]!;
    const start = performance.now();
    const listed = await store.listEntries({ parentId: parent });
    times.push(performance.now() - start);
    if (listed.length !== 10_000 / PARENTS) throw new Error(`listed ${listed.length} entries for ${parent}`);
  }
  times.sort((a, b) => a - b);
  return { single, batch, p50: percentile(times, 0.5), p99: percentile(times, 0.99) };
}

const dir = mkdtempSync(join(tmpdir(), 'meshward-store-bench-'));
const sqlite = await openSqliteDatastore(join(dir, 'datastore.sqlite3'));
const s = await measure(sqlite);
await sqlite.close();
rmSync(dir, { recursive: true, force: true });

const schema = `meshward_bench_${randomBytes(6).toString('hex')}`;
const admin = new pg.Client({ connectionString: PG_URL });
await admin.connect();
await admin.query(`CREATE SCHEMA ${schema}`);
let p: Awaited<ReturnType<typeof measure>>;
try {
  const postgres = await openPostgresDatastore(PG_URL, { searchPath: schema });
  p = await measure(postgres);
  await postgres.close();
} finally {
  await admin.query(`DROP SCHEMA ${schema} CASCADE`);
  await admin.end();
}

console.log(
  JSON.stringify({
    bench: 'store',
    sqlite_entries_per_sec: s.single,
    postgres_entries_per_sec: p.single,
    sqlite_batch_entries_per_sec: s.batch,
    postgres_batch_entries_per_sec: p.batch,
    batch_size: BATCH,
    sqlite_list_by_parent_10k_p50_ms: s.p50,
    sqlite_list_by_parent_10k_p99_ms: s.p99,
    postgres_list_by_parent_10k_p50_ms: p.p50,
    postgres_list_by_parent_10k_p99_ms: p.p99,
  }),
);
