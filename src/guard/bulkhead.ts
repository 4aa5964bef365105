/**
 * A bulkhead: at most `maxConcurrent` requests in flight, up to `maxQueue`
 * more waiting (each at most `queueTimeoutMs`), everything else refused at
 * once with ERR_GUARD_BULKHEAD_FULL (503) — never an unbounded queue
 * (Envoy `max_requests` / `max_pending_requests`, SECURITY-CASES 78).
 *
 * Acquire/release rather than cockatiel's `execute(fn)`: a proxied request
 * holds its slot until the response stream ends, which outlives any function
 * call. `release` is idempotent.
 */
import { GuardError } from './guard-error.js';

export type Release = () => void;

export interface BulkheadOptions {
  /** Requests in flight at once; ≥ 1. */
  readonly maxConcurrent: number;
  /** Requests waiting for a slot; default 0 (refuse at once when full). */
  readonly maxQueue?: number;
  /** Longest wait in the queue, in milliseconds; default 1,000. */
  readonly queueTimeoutMs?: number;
}

interface Waiter {
  resolve: (release: Release) => void;
  reject: (error: unknown) => void;
  timer: NodeJS.Timeout;
  cleanup: () => void;
}

export interface ResolvedBulkheadOptions {
  readonly maxConcurrent: number;
  readonly maxQueue: number;
  readonly queueTimeoutMs: number;
}

export function checkBulkheadOptions(options: BulkheadOptions): ResolvedBulkheadOptions {
  const { maxConcurrent, maxQueue = 0, queueTimeoutMs = 1000 } = options;
  if (!Number.isSafeInteger(maxConcurrent) || maxConcurrent < 1) throw new RangeError('maxConcurrent must be a positive integer');
  if (!Number.isSafeInteger(maxQueue) || maxQueue < 0) throw new RangeError('maxQueue must be a non-negative integer');
  if (!Number.isFinite(queueTimeoutMs) || queueTimeoutMs <= 0) throw new RangeError('queueTimeoutMs must be a positive number');
  return { maxConcurrent, maxQueue, queueTimeoutMs };
}

export class Bulkhead {
  readonly options: ResolvedBulkheadOptions;
  #active = 0;
  readonly #queue: Waiter[] = [];
  /** Called when the bulkhead becomes idle (nothing active, nothing queued). */
  onIdle: (() => void) | undefined;

  constructor(options: BulkheadOptions) {
    this.options = checkBulkheadOptions(options);
  }

  get active(): number {
    return this.#active;
  }

  get queued(): number {
    return this.#queue.length;
  }

  /** A slot now, or undefined when none is free (never queues). */
  tryAcquire(): Release | undefined {
    if (this.#active >= this.options.maxConcurrent) return undefined;
    this.#active++;
    return this.#releaser();
  }

  /**
   * A slot now when free (returned synchronously, no promise on the fast path),
   * a promise of one when queued, or a thrown ERR_GUARD_BULKHEAD_FULL when the queue is full.
   */
  acquire(signal?: AbortSignal): Release | Promise<Release> {
    const now = this.tryAcquire();
    if (now !== undefined) return now;
    if (this.#queue.length >= this.options.maxQueue) throw full('bulkhead full');
    if (signal?.aborted === true) throw full('request aborted while waiting');
    return new Promise<Release>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        timer: setTimeout(() => this.#drop(waiter, full('bulkhead queue timeout')), this.options.queueTimeoutMs),
        cleanup: () => undefined,
      };
      if (signal !== undefined) {
        const onAbort = (): void => this.#drop(waiter, full('request aborted while waiting'));
        signal.addEventListener('abort', onAbort, { once: true });
        waiter.cleanup = () => signal.removeEventListener('abort', onAbort);
      }
      this.#queue.push(waiter);
    });
  }

  #drop(waiter: Waiter, error: GuardError): void {
    const i = this.#queue.indexOf(waiter);
    if (i === -1) return;
    this.#queue.splice(i, 1);
    clearTimeout(waiter.timer);
    waiter.cleanup();
    waiter.reject(error);
    this.#checkIdle();
  }

  #releaser(): Release {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const next = this.#queue.shift();
      if (next !== undefined) {
        // Hand the slot straight to the next waiter: `active` stays the same.
        clearTimeout(next.timer);
        next.cleanup();
        next.resolve(this.#releaser());
        return;
      }
      this.#active--;
      this.#checkIdle();
    };
  }

  #checkIdle(): void {
    if (this.#active === 0 && this.#queue.length === 0) this.onIdle?.();
  }
}

function full(message: string): GuardError {
  return new GuardError('ERR_GUARD_BULKHEAD_FULL', message);
}

export interface KeyedBulkheadsOptions extends BulkheadOptions {
  /** Most callers with requests in flight at once; beyond it new callers are refused. Default 10,000. */
  readonly maxKeys?: number;
  /** Called on every refusal, for metrics (`upstream_rq_pending_overflow`). */
  readonly onReject?: (key: string, reason: 'full' | 'queue-timeout' | 'too-many-keys') => void;
}

/**
 * One bulkhead per caller, created on first use and dropped as soon as it is
 * idle, so the map only ever holds callers with work in flight (≤ `maxKeys`).
 */
export class KeyedBulkheads {
  readonly #options: ResolvedBulkheadOptions;
  readonly #maxKeys: number;
  readonly #onReject: KeyedBulkheadsOptions['onReject'];
  readonly #bulkheads = new Map<string, Bulkhead>();

  constructor(options: KeyedBulkheadsOptions) {
    this.#options = checkBulkheadOptions(options);
    const maxKeys = options.maxKeys ?? 10_000;
    if (!Number.isSafeInteger(maxKeys) || maxKeys < 1) throw new RangeError('maxKeys must be a positive integer');
    this.#maxKeys = maxKeys;
    this.#onReject = options.onReject;
  }

  /** Callers with work in flight. */
  get size(): number {
    return this.#bulkheads.size;
  }

  get(key: string): Bulkhead | undefined {
    return this.#bulkheads.get(key);
  }

  acquire(key: string, signal?: AbortSignal): Release | Promise<Release> {
    let bulkhead = this.#bulkheads.get(key);
    if (bulkhead === undefined) {
      if (this.#bulkheads.size >= this.#maxKeys) {
        this.#onReject?.(key, 'too-many-keys');
        throw full('too many callers in flight');
      }
      const created = new Bulkhead(this.#options);
      created.onIdle = () => {
        if (this.#bulkheads.get(key) === created) this.#bulkheads.delete(key);
      };
      this.#bulkheads.set(key, created);
      bulkhead = created;
    }
    let result: Release | Promise<Release>;
    try {
      result = bulkhead.acquire(signal);
    } catch (error) {
      this.#onReject?.(key, 'full');
      if (bulkhead.active === 0 && bulkhead.queued === 0) this.#bulkheads.delete(key);
      throw error;
    }
    if (typeof result === 'function') return result;
    return result.catch((error: unknown) => {
      this.#onReject?.(key, 'queue-timeout');
      throw error;
    });
  }
}
