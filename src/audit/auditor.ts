/**
 * The Auditor: the proxy's one entry point to audit. Denials (and records of
 * must-audit routes) are written and made durable before their promise
 * resolves, so the response can wait for them; allowed records go to a
 * bounded in-memory queue and are written in batches, at the latest every
 * `flushIntervalMs`. Nothing is lost silently: a full queue counts `dropped`,
 * a failed write counts `failed`, and both call their hooks (metrics).
 *
 * Delivery for allowed records is at-most-once: on SIGKILL, what was still
 * queued is lost — at most the records accepted since the last write, which
 * is never more than `maxBatch` records nor older than `flushIntervalMs`
 * (plus the time one write takes). See docs/audit.md.
 */
import { AuditError } from './audit-error.js';
import type { AuditRecord, AuditRecordInput } from './record.js';
import { sanitizeRecord } from './sanitize.js';
import type { AuditSink } from './sink.js';

export interface AuditorOptions {
  readonly sink: AuditSink;
  /** Allowed records waiting to be written before new ones are dropped; default 10,000. */
  readonly maxBuffered?: number;
  /** Records per write; a full batch is written at once (without fsync); default 256. */
  readonly maxBatch?: number;
  /** Queued allowed records are written and synced at least this often (ms); default 100. */
  readonly flushIntervalMs?: number;
  /** Clock for records without a `time`; default Date.now. */
  readonly now?: () => number;
  /** An allowed record was dropped because the queue was full (or the auditor closed). */
  readonly onDropped?: (count: number) => void;
  /** Records could not be written (or serialized); `error` says why. */
  readonly onFailed?: (count: number, error: AuditError) => void;
  /** A record's field held invalid UTF-8, replaced by U+FFFD; `count` fields. */
  readonly onInvalidUtf8?: (count: number) => void;
  /** Records reached the sink. */
  readonly onWritten?: (count: number) => void;
}

export interface AuditStats {
  /** Records the sink accepted. */
  readonly written: number;
  /** Allowed records dropped because the queue was full (or after close). */
  readonly dropped: number;
  /** Records the sink failed to write, or that could not be serialized. */
  readonly failed: number;
  /** Fields whose invalid UTF-8 was replaced. */
  readonly invalidUtf8: number;
  /** Fields cut to their cap. */
  readonly truncated: number;
  /** Records queued now. */
  readonly queued: number;
}

interface Entry {
  readonly record: AuditRecord;
  readonly waiter?: { resolve: () => void; reject: (err: AuditError) => void };
}

interface Waiter {
  resolve: () => void;
  reject: (err: AuditError) => void;
}

export class Auditor {
  readonly #sink: AuditSink;
  readonly #maxBuffered: number;
  readonly #maxBatch: number;
  readonly #now: () => number;
  readonly #options: AuditorOptions;
  readonly #timer: NodeJS.Timeout;
  #queue: Entry[] = [];
  #queuedAllowed = 0;
  #urgent = 0;
  #flushWaiters: Waiter[] = [];
  #draining = false;
  #dirty = false;
  #healthy = true;
  #closed = false;
  #written = 0;
  #dropped = 0;
  #failed = 0;
  #invalidUtf8 = 0;
  #truncated = 0;

  constructor(options: AuditorOptions) {
    const positive = (v: number | undefined, d: number, name: string) => {
      const n = v ?? d;
      if (!Number.isInteger(n) || n < 1) throw new RangeError(`audit: ${name} must be a positive integer`);
      return n;
    };
    this.#sink = options.sink;
    this.#maxBuffered = positive(options.maxBuffered, 10_000, 'maxBuffered');
    this.#maxBatch = positive(options.maxBatch, 256, 'maxBatch');
    const interval = positive(options.flushIntervalMs, 100, 'flushIntervalMs');
    this.#now = options.now ?? Date.now;
    this.#options = options;
    this.#timer = setInterval(() => {
      if (this.#queue.length > 0 || this.#dirty) this.flush().catch(() => {});
    }, interval);
    this.#timer.unref();
  }

  /** False after a failed write until a write succeeds; must-audit routes deny meanwhile. */
  get healthy(): boolean {
    return this.#healthy && !this.#closed;
  }

  get sink(): AuditSink {
    return this.#sink;
  }

  stats(): AuditStats {
    return {
      written: this.#written,
      dropped: this.#dropped,
      failed: this.#failed,
      invalidUtf8: this.#invalidUtf8,
      truncated: this.#truncated,
      queued: this.#queue.length,
    };
  }

  /**
   * Queues an allowed request's record (fire-and-forget). Returns false, and
   * counts it as dropped, when the queue is full or the auditor is closed.
   */
  recordAllowed(input: AuditRecordInput): boolean {
    if (this.#closed || this.#queuedAllowed >= this.#maxBuffered) {
      this.#dropped += 1;
      this.#options.onDropped?.(1);
      return false;
    }
    const record = this.#sanitize(input);
    if (record === null) return false;
    this.#queue.push({ record });
    this.#queuedAllowed += 1;
    if (this.#queue.length >= this.#maxBatch) this.#drain();
    return true;
  }

  /**
   * Writes a denial's record durably (fsync for the file sink) together with
   * everything queued before it. Await it before sending the response.
   * Rejects with an AuditError when the sink fails (the record is counted as failed).
   */
  recordDenial(input: AuditRecordInput): Promise<void> {
    return this.recordDurable(input);
  }

  /**
   * Writes any record durably before resolving: denials, and allowed requests
   * on must-audit routes (forward only once this resolves; answer 503 when it rejects).
   */
  recordDurable(input: AuditRecordInput): Promise<void> {
    if (this.#closed) return Promise.reject(new AuditError('ERR_AUDIT_CLOSED', 'the auditor is closed'));
    if (this.#urgent >= this.#maxBuffered) {
      const err = new AuditError('ERR_AUDIT_SINK_FAILING', `${this.#urgent} durable records are already waiting for the ${this.#sink.kind} sink`);
      this.#failed += 1;
      this.#options.onFailed?.(1, err);
      return Promise.reject(err);
    }
    const record = this.#sanitize(input);
    if (record === null) return Promise.reject(new AuditError('ERR_AUDIT_SERIALIZE', 'the record could not be built'));
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ record, waiter: { resolve, reject } });
      this.#urgent += 1;
      this.#drain();
    });
  }

  /** Throws ERR_AUDIT_SINK_FAILING while the sink is failing: the check a must-audit route makes first. */
  assertHealthy(): void {
    if (this.#closed) throw new AuditError('ERR_AUDIT_CLOSED', 'the auditor is closed');
    if (!this.#healthy) throw new AuditError('ERR_AUDIT_SINK_FAILING', `the ${this.#sink.kind} audit sink is failing`);
  }

  /** Writes everything queued and syncs it. Rejects when that write fails. */
  flush(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#flushWaiters.push({ resolve, reject });
      this.#drain();
    });
  }

  /** Graceful shutdown: stops accepting, flushes, syncs and closes the sink. */
  async close(): Promise<void> {
    if (this.#closed) return;
    clearInterval(this.#timer);
    try {
      await this.flush();
    } finally {
      this.#closed = true;
      await this.#sink.close();
    }
  }

  #sanitize(input: AuditRecordInput): AuditRecord | null {
    try {
      const { record, stats } = sanitizeRecord(input, this.#now);
      if (stats.invalidUtf8 > 0) {
        this.#invalidUtf8 += stats.invalidUtf8;
        this.#options.onInvalidUtf8?.(stats.invalidUtf8);
      }
      this.#truncated += stats.truncated.length;
      return record;
    } catch (err) {
      const error = new AuditError('ERR_AUDIT_SERIALIZE', `a record could not be built: ${(err as Error)?.message ?? 'unknown error'}`);
      this.#failed += 1;
      this.#options.onFailed?.(1, error);
      return null;
    }
  }

  #drain(): void {
    if (this.#draining) return;
    this.#draining = true;
    void this.#run().finally(() => {
      this.#draining = false;
      // Work that arrived while the last write finished.
      if (this.#urgent > 0 || this.#flushWaiters.length > 0 || this.#queue.length >= this.#maxBatch) this.#drain();
    });
  }

  async #run(): Promise<void> {
    while (this.#urgent > 0 || this.#flushWaiters.length > 0 || this.#queue.length >= this.#maxBatch) {
      // Group commit: a durable write (a denial, a flush) takes the whole queue, so one fsync covers
      // every denial waiting; otherwise one batch at a time.
      const durableWanted = this.#urgent > 0 || this.#flushWaiters.length > 0;
      const chunk = this.#queue.splice(0, durableWanted ? this.#queue.length : this.#maxBatch);
      const flushed = this.#queue.length === 0 ? this.#flushWaiters.splice(0) : [];
      let urgent = 0;
      for (const e of chunk) if (e.waiter) urgent += 1;
      this.#queuedAllowed -= chunk.length - urgent;
      const durable = urgent > 0 || flushed.length > 0;
      try {
        await this.#sink.append(
          chunk.map((e) => e.record),
          durable,
        );
        this.#urgent -= urgent;
        this.#written += chunk.length;
        this.#dirty = !durable;
        this.#healthy = true;
        if (chunk.length > 0) this.#options.onWritten?.(chunk.length);
        for (const e of chunk) e.waiter?.resolve();
        for (const w of flushed) w.resolve();
      } catch (err) {
        this.#urgent -= urgent;
        const error =
          err instanceof AuditError ? err : new AuditError('ERR_AUDIT_WRITE_FAILED', `the ${this.#sink.kind} sink failed: ${(err as Error)?.message ?? String(err)}`);
        this.#healthy = false;
        this.#failed += chunk.length;
        if (chunk.length > 0) this.#options.onFailed?.(chunk.length, error);
        for (const e of chunk) e.waiter?.reject(error);
        for (const w of flushed) w.reject(error);
      }
    }
  }
}
