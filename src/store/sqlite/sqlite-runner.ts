/**
 * Drives the shared operations on better-sqlite3. The driver is synchronous,
 * so an operation runs to completion inside one `db.transaction` (BEGIN
 * IMMEDIATE: the write lock up front, so two processes never deadlock on a
 * lock upgrade); the async interface just wraps the result.
 */
import type BetterSqlite3 from 'better-sqlite3';
import { StoreError } from '../store-error.js';
import { SCHEMA_MIGRATIONS_TABLE } from '../migrations/index.js';
import { pendingMigrations } from '../migrations/pending.js';
import type { SqlRunner } from '../sql/runner.js';
import { CHANGES_PER_INSERT, insertChangesSql, isChangeStep, type ChangeStep, type Op, type Rows, type SqlValue } from '../sql/statement.js';
import { mapSqliteError } from './sqlite-errors.js';

/** Dynamic SQL (IN lists) varies with its input; keep the statement cache bounded. */
const MAX_CACHED_STATEMENTS = 256;

const toSqlite = (v: SqlValue): string | number | null => (typeof v === 'boolean' ? (v ? 1 : 0) : v);

export class SqliteRunner implements SqlRunner {
  readonly kind = 'sqlite';
  private readonly statements = new Map<string, BetterSqlite3.Statement>();
  private readonly inTransaction: BetterSqlite3.Transaction<<T>(op: () => Op<T>) => T>;
  private closed = false;

  constructor(private readonly db: BetterSqlite3.Database) {
    this.inTransaction = db.transaction(<T>(op: () => Op<T>): T => this.drive(op(), true));
  }

  async read<T>(op: () => Op<T>): Promise<T> {
    this.checkOpen();
    return this.drive(op(), false);
  }

  async write<T>(op: () => Op<T>): Promise<T> {
    this.checkOpen();
    try {
      return this.inTransaction.immediate(op) as T;
    } catch (err) {
      throw mapSqliteError(err);
    }
  }

  async migrate(): Promise<void> {
    this.checkOpen();
    try {
      this.db
        .transaction(() => {
          this.db.exec(SCHEMA_MIGRATIONS_TABLE);
          const row = this.db.prepare('SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations').get() as { v: number };
          for (const m of pendingMigrations(row.v)) {
            this.db.exec(m.sqlite);
            this.db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(m.version, Math.floor(Date.now() / 1000));
          }
        })
        .immediate();
    } catch (err) {
      const mapped = mapSqliteError(err);
      if (mapped instanceof StoreError) throw mapped;
      throw new StoreError('ERR_STORE_MIGRATION', `sqlite migration failed: ${(err as Error).message}`, { cause: err });
    }
  }

  async ping(): Promise<void> {
    this.checkOpen();
    this.db.prepare('SELECT 1').get();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.statements.clear();
    this.db.close();
  }

  private checkOpen(): void {
    if (this.closed) throw new StoreError('ERR_STORE_UNAVAILABLE', 'the datastore is closed');
  }

  private drive<T>(op: Op<T>, writing: boolean): T {
    const changes: ChangeStep['change'][] = [];
    let next = op.next();
    while (!next.done) {
      const step = next.value;
      if (isChangeStep(step)) {
        if (!writing) throw new Error('store: a read operation tried to record a change');
        changes.push(step.change);
        next = op.next({ rows: [], count: 0 });
        continue;
      }
      let result: Rows;
      try {
        result = this.run(step.sql, step.params.map(toSqlite));
      } catch (err) {
        throw mapSqliteError(err, step);
      }
      next = op.next(result);
    }
    for (let i = 0; i < changes.length; i += CHANGES_PER_INSERT) {
      const chunk = changes.slice(i, i + CHANGES_PER_INSERT);
      this.run(insertChangesSql(chunk.length), chunk.flatMap((c) => [c.kind, c.key, c.time]));
    }
    return next.value;
  }

  private run(text: string, params: (string | number | null)[]): Rows {
    const stmt = this.prepare(text);
    if (stmt.reader) {
      const rows = stmt.all(...params) as Record<string, unknown>[];
      return { rows, count: rows.length };
    }
    return { rows: [], count: stmt.run(...params).changes };
  }

  private prepare(text: string): BetterSqlite3.Statement {
    let stmt = this.statements.get(text);
    if (!stmt) {
      if (this.statements.size >= MAX_CACHED_STATEMENTS) this.statements.clear();
      stmt = this.db.prepare(text);
      this.statements.set(text, stmt);
    }
    return stmt;
  }
}
