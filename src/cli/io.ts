/** File and flag helpers shared by CLI commands; every failure is a UsageError naming the problem. */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { parseDurationSeconds } from '../duration.js';
import { SpiffeId } from '../spiffe/spiffe-id.js';
import { TrustDomain } from '../spiffe/trust-domain.js';
import { UsageError } from './usage-error.js';

/** Files handed to the CLI are small (certificates, bundles, tokens). */
const MAX_INPUT_BYTES = 4 * 1024 * 1024;

export function readInputFile(path: string, flag: string): Buffer {
  let data: Buffer;
  try {
    data = readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`${flag} ${path}: cannot read the file (${code ?? 'error'})`);
  }
  if (data.length > MAX_INPUT_BYTES) throw new UsageError(`${flag} ${path}: file is larger than ${MAX_INPUT_BYTES} bytes`);
  return data;
}

export function durationFlag(text: string, flag: string): number {
  const seconds = parseDurationSeconds(text);
  if (typeof seconds === 'string') throw new UsageError(`${flag}: ${seconds}`);
  return seconds;
}

export function spiffeIdFlag(text: string, flag: string): SpiffeId {
  try {
    return SpiffeId.parse(text);
  } catch (err) {
    throw new UsageError(`${flag}: ${(err as Error).message}`);
  }
}

export function trustDomainFlag(text: string, flag: string): TrustDomain {
  try {
    return TrustDomain.parse(text);
  } catch (err) {
    throw new UsageError(`${flag}: ${(err as Error).message}`);
  }
}

export function oneOf<T extends string>(text: string, allowed: readonly T[], flag: string): T {
  if (!(allowed as readonly string[]).includes(text)) throw new UsageError(`${flag}: "${text}" is not one of ${allowed.join(', ')}`);
  return text as T;
}

/**
 * Writes files all-or-nothing: each goes to a temporary name created with its
 * final mode, then all are renamed into place. Private keys get 0600 from the
 * first byte on disk.
 */
export function writeFilesAtomically(dir: string, files: Array<{ name: string; data: string | Uint8Array; mode: number }>): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new UsageError(`--out ${dir}: cannot create the directory (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const staged: Array<[string, string]> = [];
  for (const file of files) {
    const final = join(dir, file.name);
    const temp = join(dirname(final), `.${file.name}.${randomBytes(6).toString('hex')}.tmp`);
    const fd = openSync(temp, 'wx', file.mode);
    try {
      writeSync(fd, typeof file.data === 'string' ? Buffer.from(file.data) : file.data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    staged.push([temp, final]);
  }
  for (const [temp, final] of staged) renameSync(temp, final);
}
