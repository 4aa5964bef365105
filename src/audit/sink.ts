import type { ChainHead } from './chain.js';
import type { AuditRecord } from './record.js';

/**
 * Where records go. A sink owns its chain: it seals each record after its
 * own head (chain.ts) and writes them in order. The Auditor calls `append`
 * one call at a time.
 */
export interface AuditSink {
  /** `file`, `sqlite` or `postgres`; used as a metrics label. */
  readonly kind: string;
  /**
   * Seals and writes `records` in order. With `durable`, resolves only once
   * they (and everything before them) are on stable storage (fsync, a
   * synchronous commit); an empty batch with `durable` just syncs.
   * Rejects with an AuditError; the head then stays at the last record known written.
   */
  append(records: readonly AuditRecord[], durable: boolean): Promise<void>;
  /** The last record written: its `seq` and SHA-256. Keep a copy elsewhere to detect tail truncation. */
  head(): ChainHead;
  close(): Promise<void>;
}
