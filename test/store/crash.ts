/**
 * kill -9 during batch creates: a child process writes batches of entries,
 * we SIGKILL it at a random moment, reopen and check that every entry is
 * whole (its selector rows and change-log row present) or absent, and that
 * whole batches landed or none of them.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';

const FIXTURE = fileURLToPath(new URL('./fixtures/create-entries-forever.ts', import.meta.url));
export const CRASH_BATCH = 25;

/** Runs the child until it has committed at least `minCommitted` entries, then kills it mid-flight; returns what it reported. */
export async function runAndKill(args: readonly string[], minCommitted: number): Promise<number> {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, ...args, String(CRASH_BATCH)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let reported = 0;
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      const last = d.toString().trim().split('\n').at(-1)!;
      reported = Number(last.split(' ')[1]);
      if (reported >= minCommitted) resolve();
    });
    child.on('exit', () => reject(new Error(`the crash-test child exited on its own: ${stderr}`)));
  });
  // A random pause lands the kill anywhere in the next batch: mid-insert, mid-commit or between batches.
  await new Promise((resolve) => setTimeout(resolve, Math.random() * 15));
  child.kill('SIGKILL');
  assert.equal(await exited, 'SIGKILL');
  return reported;
}

export interface StoredShape {
  /** Entries with the number of selectors in their JSON, and of rows in entry_selectors. */
  readonly entries: ReadonlyArray<{ id: string; selectors: number; selectorRows: number }>;
  readonly changes: number;
}

export function assertWholeOrAbsent(shape: StoredShape, reportedCommitted: number): void {
  const broken = shape.entries.filter((e) => e.selectors !== 4 || e.selectorRows !== 4);
  assert.deepEqual(broken, [], 'every stored entry has all its selectors');
  assert.equal(shape.entries.length % CRASH_BATCH, 0, `whole batches only (${shape.entries.length} entries)`);
  assert.ok(shape.entries.length >= reportedCommitted, 'every batch the child saw committed is there');
  assert.equal(shape.changes, shape.entries.length, 'one change-log row per entry');
}

export const SHAPE_SQL = `SELECT e.id, e.selectors, (SELECT COUNT(*) FROM entry_selectors s WHERE s.entry_id = e.id) AS selector_rows FROM entries e`;

export function toShape(rows: ReadonlyArray<Record<string, unknown>>, changes: number): StoredShape {
  return {
    entries: rows.map((r) => ({ id: String(r.id), selectors: (JSON.parse(String(r.selectors)) as unknown[]).length, selectorRows: Number(r.selector_rows) })),
    changes,
  };
}
