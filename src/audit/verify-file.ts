import { readFile } from 'node:fs/promises';
import { AuditError } from './audit-error.js';
import { verifyAuditLines, type VerifyOptions, type VerifyResult } from './verify-lines.js';

/** Splits on `\n` only (never on `\r`, U+2028 or others): the bytes of each line and whether the last one lacked its newline. */
export function splitLines(data: Buffer): { lines: Buffer[]; tornTail: boolean } {
  const lines: Buffer[] = [];
  let start = 0;
  for (;;) {
    const nl = data.indexOf(0x0a, start);
    if (nl < 0) break;
    lines.push(data.subarray(start, nl));
    start = nl + 1;
  }
  const tornTail = start < data.length;
  if (tornTail) lines.push(data.subarray(start));
  return { lines, tornTail };
}

/**
 * Verifies a JSON Lines audit file's hash chain: `{ ok, records }`, or the
 * first bad line and what is wrong with it. Throws ERR_AUDIT_UNREADABLE when
 * the file cannot be read.
 */
export async function verifyAuditFile(path: string, options: VerifyOptions = {}): Promise<VerifyResult> {
  let data: Buffer;
  try {
    data = await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new AuditError('ERR_AUDIT_UNREADABLE', `cannot read ${path} (${code})`, { cause: err });
  }
  const { lines, tornTail } = splitLines(data);
  return verifyAuditLines(lines, tornTail, options);
}
