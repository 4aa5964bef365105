import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { writeFileAtomic } from '../src/atomic-file.js';

test('writeFileAtomic: 0600, replaces only when asked, leaves no temp file, never writes through a planted file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mw-atomic-'));
  const path = join(dir, 'svid.key');
  writeFileSync(path, 'old', { mode: 0o644 });
  writeFileAtomic(path, 'new', { replace: true });
  assert.equal(readFileSync(path, 'utf8'), 'new');
  assert.equal(statSync(path).mode & 0o777, 0o600);
  assert.throws(() => writeFileAtomic(path, 'other', { replace: false }), { code: 'EEXIST' });
  assert.equal(readFileSync(path, 'utf8'), 'new');
  // a symlink where the target goes is replaced, not followed
  const victim = join(dir, 'victim');
  writeFileSync(victim, 'keep');
  const link = join(dir, 'link.key');
  symlinkSync(victim, link);
  writeFileAtomic(link, 'secret', { replace: true });
  assert.equal(readFileSync(victim, 'utf8'), 'keep');
  assert.deepEqual(readdirSync(dir).sort(), ['link.key', 'svid.key', 'victim']);
});
