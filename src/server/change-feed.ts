/**
 * One poller of the datastore's change log per server, shared by every
 * in-memory view (entries, agents, revocations, the bundle) and by the watch
 * stream. It polls `changesSince` every 200 ms and hands each batch to the
 * subscribers in order.
 *
 * Change IDs come from a sequence; with several replicas writing to one
 * PostgreSQL, a transaction can commit after one with a higher ID. So the
 * cursor only moves past a missing ID once it has been missing for
 * GAP_TIMEOUT_MS (a rolled-back transaction leaves a gap for ever), and IDs
 * above the cursor already delivered are remembered and not delivered twice.
 */
import type { Logger } from 'pino';
import type { Datastore } from '../store/datastore.js';
import type { Change } from '../store/types.js';

export type ChangeListener = (changes: readonly Change[]) => void | Promise<void>;

export interface ChangeFeedOptions {
  readonly intervalMs?: number;
  readonly gapTimeoutMs?: number;
  readonly batchSize?: number;
}

const GAP_TIMEOUT_MS = 5_000;

export class ChangeFeed {
  readonly #store: Datastore;
  readonly #log: Logger;
  readonly #intervalMs: number;
  readonly #gapTimeoutMs: number;
  readonly #batchSize: number;
  readonly #listeners = new Set<ChangeListener>();
  /** Every change with id ≤ cursor was delivered (or given up on). */
  #cursor = 0;
  /** IDs above the cursor already delivered. */
  readonly #delivered = new Set<number>();
  /** Missing IDs above the cursor: when each was first seen missing. */
  readonly #gaps = new Map<number, number>();
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #closed = false;
  #healthy = true;
  #lastError = 0;

  constructor(store: Datastore, log: Logger, options: ChangeFeedOptions = {}) {
    this.#store = store;
    this.#log = log;
    this.#intervalMs = options.intervalMs ?? 200;
    this.#gapTimeoutMs = options.gapTimeoutMs ?? GAP_TIMEOUT_MS;
    this.#batchSize = options.batchSize ?? 1000;
  }

  /** The highest change ID delivered. */
  get position(): number {
    let max = this.#cursor;
    for (const id of this.#delivered) if (id > max) max = id;
    return max;
  }

  /** False while the datastore cannot be read. */
  get healthy(): boolean {
    return this.#healthy;
  }

  /**
   * Sets the cursor at the change log's current end. Views load their state
   * after this and before `begin()`, so no change falls between the two
   * (one may be applied twice, which views tolerate).
   */
  async init(): Promise<void> {
    this.#cursor = await this.#store.latestChangeId();
  }

  /** Starts polling. */
  begin(): void {
    if (this.#timer === undefined && !this.#closed) this.#schedule();
  }

  subscribe(listener: ChangeListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Polls now; resolves when every change committed before the call has been delivered. */
  async poll(): Promise<void> {
    if (this.#running !== undefined) {
      // A poll is under way; it may have read before our caller's commit, so run once more after it.
      this.#again = true;
      await this.#running;
      if (this.#running !== undefined) await this.#running;
      return;
    }
    this.#running = this.#pollLoop().finally(() => {
      this.#running = undefined;
    });
    await this.#running;
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running?.catch(() => undefined);
  }

  #schedule(): void {
    if (this.#closed) return;
    this.#timer = setTimeout(() => {
      this.poll()
        .catch(() => undefined)
        .finally(() => this.#schedule());
    }, this.#intervalMs);
    this.#timer.unref();
  }

  async #pollLoop(): Promise<void> {
    do {
      this.#again = false;
      try {
        await this.#pollOnce();
        if (!this.#healthy) this.#log.info('change log readable again');
        this.#healthy = true;
      } catch (err) {
        this.#healthy = false;
        const now = Date.now();
        if (now - this.#lastError > 10_000) {
          this.#lastError = now;
          this.#log.warn({ err: { code: (err as { code?: string }).code, message: (err as Error).message } }, 'cannot read the change log; retrying');
        }
        throw err;
      }
    } while (this.#again && !this.#closed);
  }

  async #pollOnce(): Promise<void> {
    for (;;) {
      const changes = await this.#store.changesSince(this.#cursor, this.#batchSize);
      const fresh = changes.filter((c) => !this.#delivered.has(c.id));
      this.#advance(changes);
      if (fresh.length > 0) {
        for (const c of fresh) if (c.id > this.#cursor) this.#delivered.add(c.id);
        for (const listener of this.#listeners) {
          try {
            await listener(fresh);
          } catch (err) {
            this.#log.error({ err: { message: (err as Error).message } }, 'a change listener failed');
          }
        }
      }
      if (changes.length < this.#batchSize) return;
    }
  }

  /** Moves the cursor over contiguous IDs and over gaps older than the timeout. */
  #advance(changes: readonly Change[]): void {
    const now = Date.now();
    const seen = new Set(this.#delivered);
    for (const c of changes) seen.add(c.id);
    let max = this.#cursor;
    for (const id of seen) if (id > max) max = id;
    for (let id = this.#cursor + 1; id <= max; id++) {
      if (!seen.has(id) && !this.#gaps.has(id)) this.#gaps.set(id, now);
    }
    for (;;) {
      const next = this.#cursor + 1;
      if (next > max) break;
      if (seen.has(next)) {
        this.#delivered.delete(next);
        this.#gaps.delete(next);
        this.#cursor = next;
        continue;
      }
      const since = this.#gaps.get(next);
      if (since !== undefined && now - since >= this.#gapTimeoutMs) {
        this.#gaps.delete(next);
        this.#cursor = next;
        continue;
      }
      break;
    }
    for (const id of this.#delivered) if (id <= this.#cursor) this.#delivered.delete(id);
  }
}
