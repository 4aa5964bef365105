/**
 * Writes the admin audit trail. Every record is written before the response
 * is sent, except successful SVID signings (`svid.sign`, `svid.jwt`): those
 * are coalesced per actor and second (audit times are whole seconds) and
 * written every 250 ms, one record with the count and the first 100 IDs and
 * serials. A signing is the hot path (an agent signs for all its workloads),
 * and one synchronous commit per signing would bound the server to a few
 * hundred signings a second. Denials are never coalesced. A crash may lose
 * the last 250 ms of signing-success records; nothing else.
 *
 * `write` never throws: a failure is logged and counted.
 */
import type { Logger } from 'pino';
import type { Datastore } from '../store/datastore.js';
import type { NewAuditRecord } from '../store/types.js';

const COALESCED_ACTIONS = new Set(['svid.sign', 'svid.jwt']);
const FLUSH_MS = 250;
const LISTED = 100;

interface Pending {
  record: NewAuditRecord;
  count: number;
  requests: number;
  spiffeIds: Set<string>;
  serialNumbers: string[];
}

export class AuditWriter {
  readonly #store: Datastore;
  readonly #log: Logger;
  readonly #pending = new Map<string, Pending>();
  readonly #timer: NodeJS.Timeout;
  failures = 0;

  constructor(store: Datastore, log: Logger) {
    this.#store = store;
    this.#log = log;
    this.#timer = setInterval(() => void this.flush(), FLUSH_MS);
    this.#timer.unref();
  }

  async write(record: NewAuditRecord): Promise<void> {
    if (record.outcome === 'success' && COALESCED_ACTIONS.has(record.action)) {
      this.#coalesce(record);
      return;
    }
    await this.#append(record);
  }

  async flush(): Promise<void> {
    if (this.#pending.size === 0) return;
    const batch = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of batch) {
      const detail = { ...p.record.detail, requests: p.requests, count: p.count, spiffeIds: [...p.spiffeIds].slice(0, LISTED), serialNumbers: p.serialNumbers.slice(0, LISTED) };
      await this.#append({ ...p.record, detail });
    }
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.flush();
  }

  #coalesce(record: NewAuditRecord): void {
    const key = `${record.actor}\u0000${record.action}\u0000${record.time}`;
    const d = record.detail as { count?: unknown; spiffeIds?: unknown; spiffeId?: unknown; serialNumbers?: unknown };
    let p = this.#pending.get(key);
    if (p === undefined) {
      p = { record: { ...record, target: record.target, detail: {} }, count: 0, requests: 0, spiffeIds: new Set(), serialNumbers: [] };
      this.#pending.set(key, p);
    }
    p.requests++;
    p.count += typeof d.count === 'number' ? d.count : 1;
    for (const id of Array.isArray(d.spiffeIds) ? d.spiffeIds : typeof d.spiffeId === 'string' ? [d.spiffeId] : []) if (p.spiffeIds.size < LISTED) p.spiffeIds.add(String(id));
    if (Array.isArray(d.serialNumbers)) for (const s of d.serialNumbers) if (p.serialNumbers.length < LISTED) p.serialNumbers.push(String(s));
  }

  async #append(record: NewAuditRecord): Promise<void> {
    try {
      await this.#store.appendAudit(record);
    } catch (err) {
      this.failures++;
      this.#log.error({ err: { code: (err as { code?: string }).code, message: (err as Error).message }, action: record.action, failures: this.failures }, 'cannot write an audit record');
    }
  }
}
