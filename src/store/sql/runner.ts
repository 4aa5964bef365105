import type { Op } from './statement.js';

/** What a SQL engine gives the shared Datastore: run operations, reads or one transaction per write. */
export interface SqlRunner {
  readonly kind: 'sqlite' | 'postgres';
  /** Runs a read-only operation (no transaction needed: each read is one statement). */
  read<T>(op: () => Op<T>): Promise<T>;
  /**
   * Runs a write as one transaction, with its change-log rows appended last.
   * Takes a factory, not a generator, so a runner may retry a failed attempt.
   */
  write<T>(op: () => Op<T>): Promise<T>;
  migrate(): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
