/**
 * Case 89: a proxy SIGKILLed under load. Every denial it reported as answered
 * is in the file; the allowed records lost are a tail of those accepted, no
 * more than maxBuffered (docs/audit.md); the chain verifies up to the torn
 * tail, and verifies whole once the sink is reopened.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Auditor, openFileSink, splitLines, verifyAuditFile } from '../../src/audit/index.js';
import { tempDir } from './helpers.js';

const WRITER = fileURLToPath(new URL('./fixtures/kill-writer.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');
const MAX_BATCH = 64;
const MAX_BUFFERED = 512;

test('SIGKILL under load: answered denials are all on disk, allowed loss is a bounded tail, the chain verifies', async (t) => {
  for (let round = 0; round < 3; round++) {
    const path = join(tempDir(t), `audit-${round}.jsonl`);
    const child = spawn(process.execPath, ['--import', TSX, WRITER, path, String(MAX_BATCH), String(MAX_BUFFERED), '50'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    const denialsAnswered = new Set<string>();
    const dropped = new Set<string>();
    let accepted = 0;
    const target = 150 + round * 100;
    await new Promise<void>((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', () => resolve());
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (chunk: string) => {
        out += chunk;
        const lines = out.split('\n');
        out = lines.pop()!;
        for (const line of lines) {
          const [kind, a, b] = line.split(' ');
          if (kind === 'D') denialsAnswered.add(a!);
          else if (kind === 'X') dropped.add(a!);
          else if (kind === 'A') accepted = Number(b);
        }
        if (denialsAnswered.size >= target && child.exitCode === null && !child.killed) child.kill('SIGKILL');
      });
    });
    assert.equal(child.signalCode, 'SIGKILL');

    const { lines, tornTail } = splitLines(readFileSync(path));
    const complete = tornTail ? lines.slice(0, -1) : lines;
    const ids = complete.map((l) => JSON.parse(l.toString('utf8')).requestId as string);
    const onDisk = new Set(ids);

    for (const id of denialsAnswered) assert.ok(onDisk.has(id), `answered denial ${id} is missing from the file`);

    // Records reach the file in the order they were accepted: what is lost is a tail.
    const numbers = ids.map((id) => Number(id.slice(1)));
    for (let i = 1; i < numbers.length; i++) assert.ok(numbers[i]! > numbers[i - 1]!, 'records are in acceptance order');
    const lastOnDisk = numbers.at(-1) ?? -1;
    const expectedBefore = Array.from({ length: lastOnDisk + 1 }, (_, i) => (i % 25 === 0 ? `d${i}` : `a${i}`)).filter((id) => !dropped.has(id));
    assert.deepEqual(ids, expectedBefore, 'nothing is missing before the last record on disk');
    const lostAllowed = Array.from({ length: Math.max(0, accepted - lastOnDisk - 1) }, (_, i) => lastOnDisk + 1 + i).filter(
      (i) => i % 25 !== 0 && !dropped.has(`a${i}`),
    ).length;
    assert.ok(lostAllowed <= MAX_BUFFERED, `lost ${lostAllowed} allowed records, more than maxBuffered ${MAX_BUFFERED}`);
    t.diagnostic(`round ${round}: ${ids.length} records on disk, ${denialsAnswered.size} answered denials all present, ${lostAllowed} allowed lost, ${dropped.size} dropped, torn tail: ${tornTail}`);

    const verified = await verifyAuditFile(path);
    if (tornTail) {
      assert.deepEqual([verified.ok, verified.firstBadLine, verified.records], [false, lines.length, lines.length - 1]);
      assert.match(verified.problem!, /truncated last line/);
    } else {
      assert.deepEqual([verified.ok, verified.records], [true, lines.length]);
    }

    // Restart: the chain resumes (after a gap record when the tail was torn) and verifies whole.
    const auditor = new Auditor({ sink: await openFileSink(path) });
    await auditor.recordDenial({ caller: null, destination: 'payment', decision: 'deny', requestId: 'after-restart' });
    await auditor.close();
    const after = await verifyAuditFile(path);
    assert.equal(after.ok, true, after.problem);
    assert.equal(after.gaps.length, tornTail ? 1 : 0);
  }
});
