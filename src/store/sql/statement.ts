/**
 * The dialect-neutral core: an operation is a generator that yields SQL
 * steps and receives their rows. The SQLite runner drives it synchronously
 * inside `db.transaction`; the PostgreSQL runner drives it with `await` on one
 * pooled client between BEGIN and COMMIT. So every rule (uniqueness mapping,
 * revision bumps, change log) is written once.
 *
 * SQL uses `?` placeholders (rewritten to `$n` for PostgreSQL) and only
 * syntax both engines share (RETURNING, ON CONFLICT, TRUE/FALSE).
 */
import type { Change } from '../types.js';

export type Row = Record<string, unknown>;

export interface Rows {
  readonly rows: Row[];
  /** Rows returned, or rows changed by a statement without RETURNING. */
  readonly count: number;
}

export type SqlValue = string | number | boolean | null;

export interface SqlStep {
  readonly sql: string;
  readonly params: readonly SqlValue[];
  /**
   * The message for a unique violation, given the engine's hint (constraint
   * or column names). Without it a violation is still ERR_STORE_ALREADY_EXISTS.
   */
  readonly conflict?: (hint: string) => string;
}

/** A change-log row; runners buffer these and write them at the end of the transaction. */
export interface ChangeStep {
  readonly change: Omit<Change, 'id'>;
}

export type Step = SqlStep | ChangeStep;

export type Op<T> = Generator<Step, T, Rows>;

export function sql(text: string, ...params: SqlValue[]): SqlStep {
  return { sql: text, params };
}

export function sqlOrConflict(conflict: (hint: string) => string, text: string, ...params: SqlValue[]): SqlStep {
  return { sql: text, params, conflict };
}

export function change(kind: Change['kind'], key: string, time: number): ChangeStep {
  return { change: { kind, key, time } };
}

export function isChangeStep(step: Step): step is ChangeStep {
  return 'change' in step;
}

/** Many rows in few statements: both engines cap bound parameters per statement. */
export const CHANGES_PER_INSERT = 200;

export function insertChangesSql(count: number): string {
  return `INSERT INTO changes (kind, key, time) VALUES ${Array.from({ length: count }, () => '(?, ?, ?)').join(', ')}`;
}
