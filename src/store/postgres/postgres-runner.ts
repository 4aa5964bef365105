/**
 * Drives the shared operations on a pg Pool: reads on any pooled
 * connection, writes on one client between BEGIN and COMMIT, retried on
 * serialization failures and deadlocks.
 *
 * The change log is appended last, under a transaction-scoped advisory lock:
 * change IDs then become visible in the order they were allocated, so a
 * follower reading `changesSince(lastSeen)` never skips a row that an older,
 * slower transaction commits later.
 */
import type pg from 'pg';
import { StoreError } from '../store-error.js';
import { SCHEMA_MIGRATIONS_TABLE } from '../migrations/index.js';
import { pendingMigrations } from '../migrations/pending.js';
import type { SqlRunner } from '../sql/runner.js';
import { CHANGES_PER_INSERT, insertChangesSql, isChangeStep, type ChangeStep, type Op, type Rows, type SqlStep } from '../sql/statement.js';
import { isRetryable, type PgErrorMapper } from './pg-errors.js';

const MAX_ATTEMPTS = 4;
/** Prepared statements live per connection; cap how many distinct texts we name. */
const MAX_NAMED_STATEMENTS = 512;
/** Advisory lock class for meshward ('mesh'); the second key is per schema, so schemas sharing a database do not contend. */
const LOCK_CLASS = 0x6d657368;
const lockSql = (purpose: string): string =>
  `SELECT pg_advisory_xact_lock(${LOCK_CLASS}, hashtext('${purpose}:' || COALESCE(current_schema(), '')))`;

type Queryable = Pick<pg.Pool | pg.PoolClient, 'query'>;

interface Prepared {
  readonly name: string | undefined;
  readonly text: string;
}

export class PostgresRunner implements SqlRunner {
  readonly kind = 'postgres';
  private readonly prepared = new Map<string, Prepared>();
  private closed = false;

  constructor(
    private readonly pool: pg.Pool,
    private readonly errors: PgErrorMapper,
  ) {}

  async read<T>(op: () => Op<T>): Promise<T> {
    this.checkOpen();
    return this.drive(op(), this.pool, false);
  }

  async write<T>(op: () => Op<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.transaction((client) => this.drive(op(), client, true));
      } catch (err) {
        if (!isRetryable(err)) throw err;
        if (attempt >= MAX_ATTEMPTS) {
          throw new StoreError('ERR_STORE_UNAVAILABLE', `transaction conflicted ${MAX_ATTEMPTS} times in a row; try again`);
        }
        await new Promise((resolve) => setTimeout(resolve, 5 * attempt * Math.random()));
      }
    }
  }

  /** Two replicas starting at once: the advisory lock makes the second wait, then find nothing pending. */
  async migrate(): Promise<void> {
    await this.transaction(async (client) => {
      await this.query(client, { sql: lockSql('migrate'), params: [] });
      await this.query(client, { sql: SCHEMA_MIGRATIONS_TABLE, params: [] });
      const { rows } = await this.query(client, { sql: 'SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations', params: [] });
      for (const m of pendingMigrations(Number(rows[0]?.v ?? 0))) {
        try {
          await client.query(m.postgres); // several statements: the simple query protocol, no parameters
        } catch (err) {
          const mapped = this.errors.map(err);
          if (mapped instanceof StoreError) throw mapped;
          throw new StoreError('ERR_STORE_MIGRATION', `postgres migration ${m.version} failed: ${this.errors.scrub(String((err as Error).message))}`);
        }
        await this.query(client, { sql: 'INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)', params: [m.version, Math.floor(Date.now() / 1000)] });
      }
    });
  }

  async ping(): Promise<void> {
    this.checkOpen();
    await this.query(this.pool, { sql: 'SELECT 1', params: [] });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }

  private checkOpen(): void {
    if (this.closed) throw new StoreError('ERR_STORE_UNAVAILABLE', 'the datastore is closed');
  }

  private async transaction<T>(body: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    this.checkOpen();
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw this.errors.unavailable(err);
    }
    let broken: Error | undefined;
    // A checked-out client whose connection drops between queries emits
    // 'error' with no pool listener on it: without ours that is an uncaught
    // exception. The pending or next query reports the failure.
    const onError = (e: Error) => (broken = e);
    client.on('error', onError);
    try {
      await this.query(client, { sql: 'BEGIN', params: [] });
      const result = await body(client);
      await this.query(client, { sql: 'COMMIT', params: [] });
      return result;
    } catch (err) {
      // A failed ROLLBACK means the connection is gone: hand it back as broken so the pool drops it.
      await client.query('ROLLBACK').catch((e: Error) => (broken = e));
      throw err;
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  }

  private async drive<T>(op: Op<T>, db: Queryable, writing: boolean): Promise<T> {
    const changes: ChangeStep['change'][] = [];
    let next = op.next();
    while (!next.done) {
      const step = next.value;
      if (isChangeStep(step)) {
        if (!writing) throw new Error('store: a read operation tried to record a change');
        changes.push(step.change);
        next = op.next({ rows: [], count: 0 });
      } else {
        next = op.next(await this.query(db, step));
      }
    }
    if (changes.length > 0) {
      await this.query(db, { sql: lockSql('changes'), params: [] });
      for (let i = 0; i < changes.length; i += CHANGES_PER_INSERT) {
        const chunk = changes.slice(i, i + CHANGES_PER_INSERT);
        await this.query(db, { sql: insertChangesSql(chunk.length), params: chunk.flatMap((c) => [c.kind, c.key, c.time]) });
      }
    }
    return next.value;
  }

  private async query(db: Queryable, step: SqlStep): Promise<Rows> {
    const { name, text } = this.prepare(step.sql);
    try {
      const result = await db.query({ name, text, values: step.params as unknown[] });
      return { rows: result.rows as Record<string, unknown>[], count: result.rowCount ?? result.rows.length };
    } catch (err) {
      throw this.errors.map(err, step);
    }
  }

  /** `?` → `$1, $2, …`, and a stable statement name so each connection parses a text once. */
  private prepare(sqlText: string): Prepared {
    let found = this.prepared.get(sqlText);
    if (!found) {
      let n = 0;
      const text = sqlText.replace(/\?/g, () => `$${++n}`);
      if (this.prepared.size >= MAX_NAMED_STATEMENTS) return { name: undefined, text };
      found = { name: `meshward_${this.prepared.size}`, text };
      this.prepared.set(sqlText, found);
    }
    return found;
  }
}
