/** Shared helpers for the CA tests: temp dirs, openssl, PEM files. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodePem } from '../../src/spiffe/pem.js';

export const OPENSSL = '/usr/bin/openssl';

export function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'meshward-ca-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Runs openssl; returns stdout (throws with stderr on failure). */
export function openssl(args: string[], cwd?: string): string {
  return execFileSync(OPENSSL, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Runs openssl and returns { ok, output } instead of throwing. */
export function opensslTry(args: string[], cwd?: string): { ok: boolean; output: string } {
  try {
    return { ok: true, output: openssl(args, cwd) };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

export function writePem(path: string, label: string, ders: readonly Buffer[]): string {
  writeFileSync(path, ders.map((d) => encodePem(label, d)).join(''));
  return path;
}

export const at = (iso: string): Date => new Date(iso);
