/**
 * The PostgreSQL sink: its own table (default `meshward_audit`), one row per
 * record holding the exact line the file sink would write, chained per
 * `stream` (one stream per proxy instance; several proxies may share the
 * table). Durable batches commit with synchronous_commit on; others with it
 * off (a crash of the server may lose the last moments of those).
 * Error messages never carry the URL's password.
 */
import type pg from 'pg';
import { lazyRequire } from '../lazy-require.js';

const pgDriver = lazyRequire<typeof pg>('pg');
import { AuditError } from './audit-error.js';
import { GENESIS_HEAD, sealBatch, type ChainHead } from './chain.js';
import type { AuditRecord } from './record.js';
import type { AuditSink } from './sink.js';
import { checkTableName } from './table-name.js';
import { verifyAuditLines, type VerifyResult } from './verify-lines.js';

export interface PostgresSinkOptions {
  /** Default `meshward_audit`. */
  readonly table?: string;
  /** The chain's name within the table; default `default`. Give each writer its own. */
  readonly stream?: string;
  /** A schema to use instead of the server's search_path (e.g. one per test). */
  readonly schema?: string;
  readonly connectionTimeoutMs?: number;
  readonly maxConnections?: number;
  readonly applicationName?: string;
}

const SCHEMA = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** A message fit to show: the URL's password (raw and decoded) and `password=` values scrubbed. */
function scrubber(connectionUrl: string): (text: string) => string {
  const secrets: string[] = [];
  try {
    const url = new URL(connectionUrl);
    if (url.password) secrets.push(url.password, decodeURIComponent(url.password));
    for (const [key, value] of url.searchParams) if (/pass/i.test(key) && value) secrets.push(value);
  } catch {
    const m = /:\/\/[^:/@\s]*:([^@\s]*)@/.exec(connectionUrl);
    if (m?.[1]) secrets.push(m[1]);
  }
  return (text) => secrets.filter(Boolean).reduce((out, s) => out.split(s).join('***'), text);
}

function target(connectionUrl: string): string {
  try {
    const url = new URL(connectionUrl);
    return `postgres://${url.username ? `${url.username}@` : ''}${url.host}${url.pathname}`;
  } catch {
    return 'postgres://(invalid URL)';
  }
}

export class PostgresAuditSink implements AuditSink {
  readonly kind = 'postgres';
  #head: ChainHead = GENESIS_HEAD;
  #closed = false;
  #stale = true;

  private constructor(
    private readonly pool: pg.Pool,
    readonly table: string,
    readonly stream: string,
    private readonly describe: (err: unknown) => string,
  ) {}

  static async open(connectionUrl: string, options: PostgresSinkOptions = {}): Promise<PostgresAuditSink> {
    const table = checkTableName(options.table ?? 'meshward_audit');
    if (options.schema !== undefined && !SCHEMA.test(options.schema)) {
      throw new AuditError('ERR_AUDIT_INVALID', `schema "${options.schema}" must be a plain identifier`);
    }
    const scrub = scrubber(connectionUrl);
    const where = target(connectionUrl);
    const describe = (err: unknown) => {
      const e = err as { message?: string; code?: string; errors?: Array<{ message?: string }> };
      const text = [e?.message, e?.errors?.[0]?.message, e?.code].find((v) => typeof v === 'string' && v !== '') ?? String(err);
      return `postgres at ${where}: ${scrub(text)}`;
    };
    let pool: pg.Pool;
    try {
      pool = new (pgDriver().Pool)({
        connectionString: connectionUrl,
        connectionTimeoutMillis: options.connectionTimeoutMs ?? 5000,
        max: options.maxConnections ?? 2,
        application_name: options.applicationName ?? 'meshward-audit',
        keepAlive: true,
        ...(options.schema === undefined ? {} : { options: `-c search_path=${options.schema}` }),
      });
    } catch (err) {
      throw new AuditError('ERR_AUDIT_SINK_UNAVAILABLE', describe(err));
    }
    pool.on('error', () => {}); // a dropped idle connection is reported by the next query
    const sink = new PostgresAuditSink(pool, table, options.stream ?? 'default', describe);
    try {
      await pool.query(
        `CREATE TABLE IF NOT EXISTS ${table} (stream TEXT NOT NULL, seq BIGINT NOT NULL, prev TEXT NOT NULL, hash TEXT NOT NULL, line TEXT NOT NULL, ` +
          `written_at TIMESTAMPTZ NOT NULL DEFAULT now(), PRIMARY KEY (stream, seq))`,
      );
      await sink.#readHead();
    } catch (err) {
      await pool.end().catch(() => {});
      throw new AuditError('ERR_AUDIT_SINK_UNAVAILABLE', `cannot open the audit table ${table}: ${describe(err)}`);
    }
    return sink;
  }

  async #readHead(client: pg.Pool | pg.PoolClient = this.pool): Promise<void> {
    const r = await client.query(`SELECT seq, hash FROM ${this.table} WHERE stream = $1 ORDER BY seq DESC LIMIT 1`, [this.stream]);
    const row = r.rows[0] as { seq: string; hash: string } | undefined;
    this.#head = row === undefined ? GENESIS_HEAD : { seq: Number(row.seq), hash: row.hash };
    this.#stale = false;
  }

  head(): ChainHead {
    return this.#head;
  }

  async append(records: readonly AuditRecord[], durable: boolean): Promise<void> {
    if (this.#closed) throw new AuditError('ERR_AUDIT_CLOSED', 'the PostgreSQL audit sink is closed');
    if (records.length === 0) return; // every commit below is already as durable as asked
    for (let attempt = 0; ; attempt++) {
      let client: pg.PoolClient | undefined;
      let broken: Error | undefined;
      // a connection dropped between queries emits 'error' on the checked-out client: never uncaught
      const onError = (e: Error) => (broken = e);
      try {
        client = await this.pool.connect();
        client.on('error', onError);
        if (this.#stale) await this.#readHead(client);
        const { lines, head } = sealBatch(this.#head, records);
        const values: unknown[] = [];
        const rows: string[] = [];
        let prev = this.#head.hash;
        for (const line of lines) {
          const k = values.length;
          rows.push(`($${k + 1}, $${k + 2}, $${k + 3}, $${k + 4}, $${k + 5})`);
          values.push(this.stream, line.seq, prev, line.hash, line.bytes.toString('utf8'));
          prev = line.hash;
        }
        await client.query('BEGIN');
        await client.query(`SET LOCAL synchronous_commit = ${durable ? 'on' : 'off'}`);
        await client.query(`INSERT INTO ${this.table} (stream, seq, prev, hash, line) VALUES ${rows.join(', ')}`, values);
        await client.query('COMMIT');
        this.#head = head;
        client.off('error', onError);
        client.release();
        return;
      } catch (err) {
        if (client) {
          await client.query('ROLLBACK').catch((e: Error) => (broken ??= e));
          client.off('error', onError);
          client.release(broken);
        }
        this.#stale = true; // another writer on this stream, or an unknown outcome: read the head again
        if ((err as { code?: string })?.code === '23505' && attempt < 3) continue;
        throw new AuditError('ERR_AUDIT_WRITE_FAILED', `cannot write to the audit table ${this.table}: ${this.describe(err)}`);
      }
    }
  }

  /** Verifies this stream's chain, ordered by `seq`. */
  async verify(): Promise<VerifyResult> {
    const r = await this.pool.query(`SELECT line FROM ${this.table} WHERE stream = $1 ORDER BY seq`, [this.stream]);
    return verifyAuditLines(r.rows.map((row: { line: string }) => Buffer.from(row.line, 'utf8')));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.pool.end();
  }
}

/** Connects to `connectionUrl` (postgres://…), creates the table if needed and resumes this stream's chain. */
export function openPostgresSink(connectionUrl: string, options: PostgresSinkOptions = {}): Promise<PostgresAuditSink> {
  return PostgresAuditSink.open(connectionUrl, options);
}
