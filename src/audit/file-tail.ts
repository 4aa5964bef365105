/**
 * Where an existing JSON Lines audit file's chain stands, read from its end:
 * the last complete line's `seq` and SHA-256, and any torn bytes after it
 * (a writer killed mid-write). Used by the file sink on open and after a
 * failed write.
 */
import type { FileHandle } from 'node:fs/promises';
import { AuditError } from './audit-error.js';
import { GENESIS_HEAD, sha256Hex, type ChainHead } from './chain.js';
import { parseLine } from './verify-lines.js';

/** Longer than any record (fields are capped well below this). */
const TAIL_WINDOW = 1024 * 1024;

export interface FileTail {
  readonly head: ChainHead;
  /** Bytes after the last newline (empty when the file ends cleanly). */
  readonly torn: Buffer;
  /** The file's size when read. */
  readonly size: number;
}

export async function readFileTail(fh: FileHandle, path: string): Promise<FileTail> {
  const { size } = await fh.stat();
  if (size === 0) return { head: GENESIS_HEAD, torn: Buffer.alloc(0), size };
  const start = Math.max(0, size - TAIL_WINDOW);
  const buf = Buffer.alloc(size - start);
  let read = 0;
  while (read < buf.length) {
    const { bytesRead } = await fh.read(buf, read, buf.length - read, start + read);
    if (bytesRead === 0) break;
    read += bytesRead;
  }
  const data = buf.subarray(0, read);
  const lastNl = data.lastIndexOf(0x0a);
  const torn = Buffer.from(data.subarray(lastNl + 1));
  if (lastNl < 0) {
    if (start > 0) throw new AuditError('ERR_AUDIT_SINK_UNAVAILABLE', `cannot resume the chain of ${path}: no line end in its last ${TAIL_WINDOW} bytes`);
    return { head: GENESIS_HEAD, torn, size };
  }
  const prevNl = data.lastIndexOf(0x0a, lastNl - 1);
  if (prevNl < 0 && start > 0) throw new AuditError('ERR_AUDIT_SINK_UNAVAILABLE', `cannot resume the chain of ${path}: its last line is longer than ${TAIL_WINDOW} bytes`);
  const line = data.subarray(prevNl + 1, lastNl);
  const rec = parseLine(line);
  if (rec === null) {
    throw new AuditError(
      'ERR_AUDIT_SINK_UNAVAILABLE',
      `cannot resume the chain of ${path}: its last complete line is not an audit record; run "meshward audit verify" and move the file aside`,
    );
  }
  return { head: { seq: rec.seq, hash: sha256Hex(line) }, torn, size };
}
