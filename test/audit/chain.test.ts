import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Auditor, GENESIS_PREV, openFileSink, sha256Hex, verifyAuditFile } from '../../src/audit/index.js';
import { sample, tempDir } from './helpers.js';

async function writeChain(path: string, n: number): Promise<void> {
  const auditor = new Auditor({ sink: await openFileSink(path) });
  for (let i = 1; i <= n; i++) auditor.recordAllowed(sample({ requestId: `req-${i}` }));
  await auditor.close();
}

function lines(path: string): string[] {
  const text = readFileSync(path, 'utf8');
  return text.endsWith('\n') ? text.slice(0, -1).split('\n') : text.split('\n');
}

const write = (path: string, ls: string[]) => writeFileSync(path, ls.map((l) => `${l}\n`).join(''));

test('an untouched chain verifies; seq counts from 1 and prev is the SHA-256 of the line before', async (t) => {
  const path = join(tempDir(t), 'audit.jsonl');
  await writeChain(path, 10);
  const result = await verifyAuditFile(path);
  assert.deepEqual({ ok: result.ok, records: result.records }, { ok: true, records: 10 });
  const ls = lines(path);
  const first = JSON.parse(ls[0]!);
  assert.equal(first.seq, 1);
  assert.equal(first.prev, GENESIS_PREV);
  assert.equal(JSON.parse(ls[4]!).prev, sha256Hex(Buffer.from(ls[3]!, 'utf8')));
  assert.deepEqual(Object.keys(first).slice(0, 3), ['seq', 'prev', 'time']);
  assert.equal(first.time, '2025-01-02T03:04:05.678Z');
  assert.equal(result.head?.hash, sha256Hex(Buffer.from(ls[9]!, 'utf8')));
});

test('an empty file verifies with zero records', async (t) => {
  const path = join(tempDir(t), 'audit.jsonl');
  writeFileSync(path, '');
  assert.deepEqual(await verifyAuditFile(path), { ok: true, records: 0, lines: 0, head: null, gaps: [] });
});

test('altering one byte of a record is reported at that line', async (t) => {
  const path = join(tempDir(t), 'audit.jsonl');
  await writeChain(path, 8);
  const ls = lines(path);
  ls[4] = ls[4]!.replace('"status":200', '"status":201');
  write(path, ls);
  const r = await verifyAuditFile(path);
  assert.equal(r.ok, false);
  assert.equal(r.firstBadLine, 5);
  assert.match(r.problem!, /line 5 was altered/);
  assert.equal(r.records, 4);
});

test('a byte that breaks the JSON is reported at that line', async (t) => {
  const path = join(tempDir(t), 'audit.jsonl');
  await writeChain(path, 5);
  const ls = lines(path);
  ls[2] = ls[2]!.slice(0, 20) + '\u0001' + ls[2]!.slice(21);
  write(path, ls);
  const r = await verifyAuditFile(path);
  assert.deepEqual([r.ok, r.firstBadLine], [false, 3]);
  assert.match(r.problem!, /not a valid audit record/);
});

test('a deleted line is reported where the gap is', async (t) => {
  const path = join(tempDir(t), 'audit.jsonl');
  await writeChain(path, 8);
  const ls = lines(path);
  ls.splice(3, 1); // remove seq 4
  write(path, ls);
  const r = await verifyAuditFile(path);
  assert.deepEqual([r.ok, r.firstBadLine, r.records], [false, 4, 3]);
  assert.match(r.problem!, /removed \(seq 4 is missing/);
});

test('two swapped lines are reported as out of order', async (t) => {
  const path = join(tempDir(t), 'audit.jsonl');
  await writeChain(path, 8);
  const ls = lines(path);
  [ls[5], ls[6]] = [ls[6]!, ls[5]!];
  write(path, ls);
  const r = await verifyAuditFile(path);
  assert.deepEqual([r.ok, r.firstBadLine], [false, 6]);
  assert.match(r.problem!, /out of order/);
});

test('an inserted copy of an earlier line is reported at the insertion', async (t) => {
  const path = join(tempDir(t), 'audit.jsonl');
  await writeChain(path, 8);
  const ls = lines(path);
  ls.splice(5, 0, ls[1]!);
  write(path, ls);
  const r = await verifyAuditFile(path);
  assert.deepEqual([r.ok, r.firstBadLine], [false, 6]);
  assert.match(r.problem!, /inserted or records reordered/);
});

test('an inserted forged line that chains correctly is reported at the insertion', async (t) => {
  const path = join(tempDir(t), 'audit.jsonl');
  await writeChain(path, 8);
  const ls = lines(path);
  const forged = JSON.stringify({ ...JSON.parse(ls[3]!), prev: sha256Hex(Buffer.from(ls[2]!)), requestId: 'forged' });
  ls.splice(3, 0, forged); // claims seq 4, chains to line 3; the real seq 4 follows it
  write(path, ls);
  const r = await verifyAuditFile(path);
  assert.deepEqual([r.ok, r.firstBadLine], [false, 4]);
  assert.match(r.problem!, /line 4 was inserted/);
});

test('a truncated last line is reported with its line number', async (t) => {
  const path = join(tempDir(t), 'audit.jsonl');
  await writeChain(path, 6);
  const data = readFileSync(path);
  writeFileSync(path, data.subarray(0, data.length - 30));
  const r = await verifyAuditFile(path);
  assert.deepEqual([r.ok, r.firstBadLine, r.records], [false, 6, 5]);
  assert.match(r.problem!, /truncated last line/);
});

test('verification of an unreadable file throws ERR_AUDIT_UNREADABLE', async (t) => {
  await assert.rejects(verifyAuditFile(join(tempDir(t), 'missing.jsonl')), { code: 'ERR_AUDIT_UNREADABLE' });
});

test('reopening resumes the chain; a torn last line is kept, followed by a gap record, and the file verifies', async (t) => {
  const path = join(tempDir(t), 'audit.jsonl');
  await writeChain(path, 4);
  const data = readFileSync(path);
  writeFileSync(path, data.subarray(0, data.length - 25)); // seq 4 torn
  const torn: Array<{ bytes: number; afterSeq: number }> = [];
  const sink = await openFileSink(path, { onTornTail: (info) => torn.push(info) });
  assert.deepEqual(torn.map((x) => x.afterSeq), [3]);
  const auditor = new Auditor({ sink });
  await auditor.recordDenial(sample({ decision: 'deny', status: 403, requestId: 'after-restart' }));
  await auditor.close();
  const r = await verifyAuditFile(path);
  assert.equal(r.ok, true, r.problem);
  assert.equal(r.gaps.length, 1);
  assert.equal(r.gaps[0]!.line, 4);
  const ls = lines(path);
  const gap = JSON.parse(ls[4]!);
  assert.deepEqual([gap.kind, gap.seq, gap.gap.afterSeq], ['gap', 4, 3]);
  assert.equal(JSON.parse(ls[5]!).requestId, 'after-restart');
  assert.equal(JSON.parse(ls[5]!).seq, 5);
});

test('reopening a file whose last record only lost its newline finishes the line and continues', async (t) => {
  const path = join(tempDir(t), 'audit.jsonl');
  await writeChain(path, 3);
  const data = readFileSync(path);
  writeFileSync(path, data.subarray(0, data.length - 1));
  const auditor = new Auditor({ sink: await openFileSink(path) });
  auditor.recordAllowed(sample());
  await auditor.close();
  const r = await verifyAuditFile(path);
  assert.deepEqual([r.ok, r.records, r.gaps.length], [true, 4, 0]);
});

test('reopening a file whose last complete line is not a record refuses to start', async (t) => {
  const path = join(tempDir(t), 'audit.jsonl');
  await writeChain(path, 3);
  writeFileSync(path, readFileSync(path, 'utf8') + 'garbage\n');
  await assert.rejects(openFileSink(path), { code: 'ERR_AUDIT_SINK_UNAVAILABLE' });
});

test('a gap record cannot excuse an altered middle line', async (t) => {
  const path = join(tempDir(t), 'audit.jsonl');
  await writeChain(path, 4);
  const data = readFileSync(path);
  writeFileSync(path, data.subarray(0, data.length - 25));
  const auditor = new Auditor({ sink: await openFileSink(path) });
  auditor.recordAllowed(sample());
  await auditor.close();
  const ls = lines(path);
  ls[3] = ls[3]!.replace(/.$/, 'X'); // the torn line itself is changed: its hash no longer matches the gap record
  write(path, ls);
  const r = await verifyAuditFile(path);
  assert.deepEqual([r.ok, r.firstBadLine], [false, 4]);
});

test('a rotated file can carry the previous file head over as its first prev', async (t) => {
  const dir = tempDir(t);
  const old = join(dir, 'old.jsonl');
  await writeChain(old, 3);
  const head = (await verifyAuditFile(old)).head!.hash;
  const next = join(dir, 'next.jsonl');
  const auditor = new Auditor({ sink: await openFileSink(next, { firstPrev: head }) });
  auditor.recordAllowed(sample());
  await auditor.close();
  assert.equal((await verifyAuditFile(next)).ok, false);
  const r = await verifyAuditFile(next, { firstPrev: head });
  assert.deepEqual([r.ok, r.records], [true, 1]);
});
