/**
 * The SQLite sink: its own table (default `meshward_audit`) in a file of its
 * own or beside other tables, one row per record holding the exact line that
 * the file sink would write, chained the same way. Durable batches commit
 * with synchronous=FULL (an fsync); others with NORMAL (WAL: safe against a
 * process crash, not a power cut).
 */
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import type Database from 'better-sqlite3';
import { lazyRequire } from '../lazy-require.js';

const betterSqlite3 = lazyRequire<typeof Database>('better-sqlite3');
import { AuditError } from './audit-error.js';
import { GENESIS_HEAD, sealBatch, type ChainHead } from './chain.js';
import type { AuditRecord } from './record.js';
import type { AuditSink } from './sink.js';
import { checkTableName } from './table-name.js';
import { verifyAuditLines, type VerifyResult } from './verify-lines.js';

export interface SqliteSinkOptions {
  /** Default `meshward_audit`. */
  readonly table?: string;
  /** How long a write waits for another writer's lock (ms); default 5000. */
  readonly busyTimeoutMs?: number;
}

export class SqliteAuditSink implements AuditSink {
  readonly kind = 'sqlite';
  #head: ChainHead;
  #closed = false;
  readonly #insert: Database.Statement;
  readonly #last: Database.Statement;

  private constructor(
    readonly path: string,
    private readonly db: Database.Database,
    readonly table: string,
  ) {
    this.#insert = db.prepare(`INSERT INTO ${table} (seq, prev, hash, line) VALUES (?, ?, ?, ?)`);
    this.#last = db.prepare(`SELECT seq, hash FROM ${table} ORDER BY seq DESC LIMIT 1`);
    this.#head = this.#readHead();
  }

  static open(path: string, options: SqliteSinkOptions = {}): SqliteAuditSink {
    const table = checkTableName(options.table ?? 'meshward_audit');
    let db: Database.Database;
    try {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      closeSync(openSync(path, 'a', 0o600));
      db = new (betterSqlite3())(path);
      db.pragma(`busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 5000)}`);
      db.pragma('journal_mode = WAL');
      db.exec(
        `CREATE TABLE IF NOT EXISTS ${table} (seq INTEGER PRIMARY KEY, prev TEXT NOT NULL, hash TEXT NOT NULL, line TEXT NOT NULL)`,
      );
    } catch (err) {
      throw new AuditError('ERR_AUDIT_SINK_UNAVAILABLE', `cannot open the SQLite audit table at ${path}: ${(err as Error).message}`, { cause: err });
    }
    return new SqliteAuditSink(path, db, table);
  }

  #readHead(): ChainHead {
    const row = this.#last.get() as { seq: number; hash: string } | undefined;
    return row === undefined ? GENESIS_HEAD : { seq: row.seq, hash: row.hash };
  }

  head(): ChainHead {
    return this.#head;
  }

  async append(records: readonly AuditRecord[], durable: boolean): Promise<void> {
    if (this.#closed) throw new AuditError('ERR_AUDIT_CLOSED', 'the SQLite audit sink is closed');
    try {
      this.db.pragma(`synchronous = ${durable ? 'FULL' : 'NORMAL'}`);
      if (records.length === 0) {
        if (durable) this.db.pragma('wal_checkpoint(PASSIVE)');
        return;
      }
      // The head is read inside the write transaction: another writer on the same table never forks the chain.
      this.#head = this.db
        .transaction(() => {
          const head = this.#readHead();
          const sealed = sealBatch(head, records);
          let prev = head.hash;
          for (const line of sealed.lines) {
            this.#insert.run(line.seq, prev, line.hash, line.bytes.toString('utf8'));
            prev = line.hash;
          }
          return sealed.head;
        })
        .immediate();
    } catch (err) {
      throw new AuditError('ERR_AUDIT_WRITE_FAILED', `cannot write to the SQLite audit table ${this.table}: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Verifies the table's chain, row order by `seq`, exactly as a file is verified. */
  verify(): VerifyResult {
    const rows = this.db.prepare(`SELECT line FROM ${this.table} ORDER BY seq`).pluck().all() as string[];
    return verifyAuditLines(rows.map((line) => Buffer.from(line, 'utf8')));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.db.close();
  }
}

/** Opens (creating, 0600) a SQLite audit table and resumes its chain. */
export function openSqliteSink(path: string, options: SqliteSinkOptions = {}): SqliteAuditSink {
  return SqliteAuditSink.open(path, options);
}
