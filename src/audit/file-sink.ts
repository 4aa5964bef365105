/**
 * The JSON Lines file sink. Appends (O_APPEND) whole batches with one write,
 * fsyncs (fdatasync) when asked for durability, and resumes the chain from
 * the file's last complete line when opened again. A torn final line left by
 * a crash is kept as evidence and followed by a `gap` record that chains to
 * the last complete record, so the file verifies again and the tear is visible.
 */
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { AuditError } from './audit-error.js';
import { gapRecord, sealBatch, type ChainHead } from './chain.js';
import { readFileTail } from './file-tail.js';
import type { AuditRecord } from './record.js';
import type { AuditSink } from './sink.js';
import { parseLine } from './verify-lines.js';

export interface FileSinkOptions {
  /** Mode of a new file; default 0600. The directory is created 0700. */
  readonly mode?: number;
  /** Clock for gap records; default Date.now. */
  readonly now?: () => number;
  /**
   * The `prev` of the first record when the file is new or empty: the head hash
   * of the file this one continues (after a rotation). Default GENESIS_PREV.
   */
  readonly firstPrev?: string;
  /** Called when a torn final line is found on open (or after a failed write). */
  readonly onTornTail?: (info: { bytes: number; afterSeq: number }) => void;
}

export class FileAuditSink implements AuditSink {
  readonly kind = 'file';
  #head: ChainHead;
  #broken = false;
  #closed = false;
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly path: string,
    private readonly fh: FileHandle,
    head: ChainHead,
    private readonly options: FileSinkOptions,
  ) {
    this.#head = head;
  }

  static async open(path: string, options: FileSinkOptions = {}): Promise<FileAuditSink> {
    let fh: FileHandle;
    try {
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      fh = await open(path, 'a+', options.mode ?? 0o600);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      throw new AuditError('ERR_AUDIT_SINK_UNAVAILABLE', `cannot open the audit file ${path} (${code})`, { cause: err });
    }
    const sink = new FileAuditSink(path, fh, { seq: 0, hash: '' }, options);
    try {
      await sink.#resume();
    } catch (err) {
      await fh.close().catch(() => {});
      throw err;
    }
    return sink;
  }

  head(): ChainHead {
    return this.#head;
  }

  /** Reads where the chain stands on disk; terminates a torn line and writes a gap record after it. */
  async #resume(): Promise<void> {
    let tail = await readFileTail(this.fh, this.path);
    if (tail.head.seq === 0 && this.options.firstPrev !== undefined) {
      if (!/^[0-9a-f]{64}$/.test(this.options.firstPrev)) throw new AuditError('ERR_AUDIT_INVALID', 'firstPrev must be 64 lowercase hex digits');
      tail = { ...tail, head: { seq: 0, hash: this.options.firstPrev } };
    }
    this.#head = tail.head;
    if (tail.torn.length === 0) return;
    const complete = parseLine(tail.torn);
    if (complete !== null && complete.seq === tail.head.seq + 1) {
      // A whole record whose newline did not make it: finish the line.
      await this.fh.write(Buffer.from('\n'));
      await this.fh.datasync();
      const again = await readFileTail(this.fh, this.path);
      this.#head = again.head;
      return;
    }
    this.options.onTornTail?.({ bytes: tail.torn.length, afterSeq: tail.head.seq });
    const time = new Date((this.options.now ?? Date.now)()).toISOString();
    const { lines, head } = sealBatch(tail.head, [gapRecord(tail.torn, tail.head.seq, time)]);
    await this.fh.write(Buffer.concat([Buffer.from('\n'), lines[0]!.bytes, Buffer.from('\n')]));
    await this.fh.datasync();
    this.#head = head;
  }

  append(records: readonly AuditRecord[], durable: boolean): Promise<void> {
    const run = this.#queue.then(() => this.#append(records, durable));
    this.#queue = run.catch(() => {});
    return run;
  }

  async #append(records: readonly AuditRecord[], durable: boolean): Promise<void> {
    if (this.#closed) throw new AuditError('ERR_AUDIT_CLOSED', `the audit file ${this.path} is closed`);
    try {
      if (this.#broken) {
        await this.#resume(); // a failed write may have left part of a line
        this.#broken = false;
      }
      if (records.length > 0) {
        const { lines, head } = sealBatch(this.#head, records);
        const parts: Buffer[] = [];
        for (const line of lines) parts.push(line.bytes, NEWLINE);
        const data = Buffer.concat(parts);
        let written = 0;
        while (written < data.length) {
          const { bytesWritten } = await this.fh.write(data, written, data.length - written);
          written += bytesWritten;
        }
        this.#head = head;
      }
      if (durable) await this.fh.datasync();
    } catch (err) {
      if (err instanceof AuditError) throw err;
      this.#broken = true;
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      throw new AuditError('ERR_AUDIT_WRITE_FAILED', `cannot write to the audit file ${this.path} (${code})`, { cause: err });
    }
  }

  async close(): Promise<void> {
    await this.#queue;
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.fh.datasync();
    } catch {
      // closing anyway; the failure was reported by the last append
    }
    await this.fh.close();
  }
}

const NEWLINE = Buffer.from('\n');

/** Opens (creating 0600) a JSON Lines audit file and resumes its chain. */
export function openFileSink(path: string, options: FileSinkOptions = {}): Promise<FileAuditSink> {
  return FileAuditSink.open(path, options);
}
