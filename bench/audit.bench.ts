/**
 * Audit speed: allowed records per second into the JSON Lines sink (batched,
 * synced on the flush interval), denial latency p50/p99 (each awaited, so
 * each pays its own fdatasync), and the cost of one record's sanitization +
 * serialization + SHA-256. Prints one JSON line {"bench":"audit",…}.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Auditor, GENESIS_HEAD, openFileSink, sanitizeRecord, sealRecord, type AuditRecordInput } from '../src/audit/index.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const DENIALS = Number(process.env.BENCH_DENIALS ?? 500);

const input = (i: number, decision: 'allow' | 'deny'): AuditRecordInput => ({
  caller: 'spiffe://example.org/ns/shop/sa/order',
  destination: 'payment',
  method: 'POST',
  path: `/payment/charge?id=${i}`,
  normalizedPath: '/payment/charge',
  userAgent: 'bench/1.0',
  decision,
  policy: 'shop/payment-callers',
  rule: 'rules[0]',
  status: decision === 'allow' ? 200 : 403,
  bytesIn: 512,
  bytesOut: 128,
  durationMs: 0.4,
  requestId: `req-${i}`,
  traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
  source: '127.0.0.1:50000',
});

const pct = (sorted: number[], p: number) => Number(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!.toFixed(3));

const dir = mkdtempSync(join(tmpdir(), 'meshward-audit-bench-'));
try {
  // 1. Serialization + hash, µs per record.
  let head = GENESIS_HEAD;
  const N = 50_000;
  for (let i = 0; i < 5_000; i++) sealRecord(head, sanitizeRecord(input(i, 'allow')).record);
  let t0 = performance.now();
  for (let i = 0; i < N; i++) {
    const line = sealRecord(head, sanitizeRecord(input(i, 'allow')).record);
    head = { seq: line.seq, hash: line.hash };
  }
  const usPerRecord = Number((((performance.now() - t0) * 1000) / N).toFixed(2));

  // 2. Allowed records/s through the Auditor into the file sink, as fast as the caller can produce them.
  const allowedPath = join(dir, 'allowed.jsonl');
  const auditor = new Auditor({ sink: await openFileSink(allowedPath), maxBuffered: 100_000, maxBatch: 512, flushIntervalMs: 100 });
  let n = 0;
  t0 = performance.now();
  while (performance.now() - t0 < SECONDS * 1000) {
    for (let i = 0; i < 1000; i++) auditor.recordAllowed(input(n++, 'allow'));
    await new Promise((r) => setImmediate(r));
  }
  await auditor.flush();
  const allowedSeconds = (performance.now() - t0) / 1000;
  const stats = auditor.stats();
  await auditor.close();
  const allowedPerSecond = Math.round(stats.written / allowedSeconds);

  // 3. Denials, one at a time: each waits for its own write + fdatasync.
  const denyAuditor = new Auditor({ sink: await openFileSink(join(dir, 'denials.jsonl')) });
  const lat: number[] = [];
  for (let i = 0; i < DENIALS; i++) {
    const s = performance.now();
    await denyAuditor.recordDenial(input(i, 'deny'));
    lat.push(performance.now() - s);
  }
  // 4. 50 concurrent denials (group commit: one fsync covers all waiting).
  const concurrent: number[] = [];
  for (let round = 0; round < 20; round++) {
    await Promise.all(
      Array.from({ length: 50 }, (_, i) => {
        const s = performance.now();
        return denyAuditor.recordDenial(input(i, 'deny')).then(() => concurrent.push(performance.now() - s));
      }),
    );
  }
  await denyAuditor.close();
  lat.sort((a, b) => a - b);
  concurrent.sort((a, b) => a - b);

  console.log(
    JSON.stringify({
      bench: 'audit',
      serializeHashUsPerRecord: usPerRecord,
      allowedRecordsPerSecond: allowedPerSecond,
      allowedDropped: stats.dropped,
      allowedBytesPerRecord: Math.round(statSync(allowedPath).size / Math.max(1, stats.written)),
      denialLatencyMs: { p50: pct(lat, 0.5), p99: pct(lat, 0.99), n: lat.length },
      denialLatency50ConcurrentMs: { p50: pct(concurrent, 0.5), p99: pct(concurrent, 0.99), n: concurrent.length },
    }),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
