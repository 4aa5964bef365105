import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Auditor, openFileSink } from '../../src/audit/index.js';
import { sample, tempDir } from './helpers.js';

const CLI = fileURLToPath(new URL('../../src/cli/bin.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');

function audit(args: string[]) {
  const r = spawnSync(process.execPath, ['--import', TSX, CLI, 'audit', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('meshward audit verify: exit 0 intact, 1 tampered with the line, 2 unreadable', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'audit.jsonl');
  const auditor = new Auditor({ sink: await openFileSink(path) });
  for (let i = 0; i < 5; i++) auditor.recordAllowed(sample({ requestId: `r${i}` }));
  await auditor.close();
  const head = auditor.sink.head().hash;

  const ok = audit(['verify', path]);
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /ok, 5 records, chain intact/);
  assert.equal(audit(['verify', path, '--head', head]).status, 0);

  const json = audit(['verify', path, '--json']);
  assert.deepEqual([json.status, JSON.parse(json.stdout).records], [0, 5]);

  const lines = readFileSync(path, 'utf8').split('\n');
  const tampered = join(dir, 'tampered.jsonl');
  writeFileSync(tampered, [lines[0], lines[2], lines[3], lines[4], ''].join('\n')); // line 2 removed; the last record also gone
  const bad = audit(['verify', tampered]);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /TAMPERED or truncated at line 2: line 2: record\(s\) removed/);

  const tail = join(dir, 'tail.jsonl');
  writeFileSync(tail, lines.slice(0, 4).join('\n') + '\n'); // last record removed: the chain alone cannot tell…
  assert.equal(audit(['verify', tail]).status, 0);
  const anchored = audit(['verify', tail, '--head', head]); // …the head kept elsewhere can
  assert.equal(anchored.status, 1);
  assert.match(anchored.stderr, /does not hash to --head/);

  const missing = audit(['verify', join(dir, 'nope.jsonl')]);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /cannot read .*nope\.jsonl \(ENOENT\)/);
  assert.equal(audit(['verify', dir]).status, 2); // a directory
  assert.equal(audit(['verify', path, '--head', 'xyz']).status, 2);
});
