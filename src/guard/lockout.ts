/**
 * Brute-force lockout: `maxFailures` failed authentications (bad certificate,
 * bad or replayed token, …) from one source within `windowMs` lock that
 * source out for `cooldownMs`. Memory is bounded: at most `maxSources` sources
 * are tracked, least recently seen dropped first. Time is injected.
 *
 * The proxy calls `check(source)` before authenticating (a locked source is
 * refused without spending a handshake's worth of work on it, 429 with
 * `retry-after`) and `recordFailure(source, reason)` after each failure.
 */
import { GuardError } from './guard-error.js';

export type AuthFailureReason = 'bad-certificate' | 'bad-token' | 'replayed-token' | 'no-certificate' | (string & {});

export interface LockoutEvent {
  readonly source: string;
  readonly reason: AuthFailureReason;
  readonly failures: number;
  /** Milliseconds (clock time) when the lockout ends. */
  readonly until: number;
}

export interface LockoutOptions {
  /** Failures within the window that lock a source out; default 5. */
  readonly maxFailures?: number;
  /** Default 60,000 ms. */
  readonly windowMs?: number;
  /** How long a locked source is refused; default 300,000 ms (5 minutes). */
  readonly cooldownMs?: number;
  /** Sources tracked at once; default 100,000. */
  readonly maxSources?: number;
  readonly clock?: () => number;
  /** A source was locked out (log it). */
  readonly onLockout?: (event: LockoutEvent) => void;
  /** Every recorded failure (count it by reason). */
  readonly onFailure?: (source: string, reason: AuthFailureReason) => void;
}

export interface LockoutStatus {
  readonly locked: boolean;
  /** Seconds until the lockout ends; 0 when not locked. */
  readonly retryAfterSeconds: number;
}

interface Entry {
  /** Times of recent failures, oldest first, at most maxFailures. */
  failures: number[];
  lockedUntil: number;
}

const OPEN: LockoutStatus = Object.freeze({ locked: false, retryAfterSeconds: 0 });

export class Lockout {
  readonly maxFailures: number;
  readonly windowMs: number;
  readonly cooldownMs: number;
  readonly maxSources: number;
  readonly stats = { failures: 0, lockouts: 0, refused: 0, evicted: 0 };
  readonly failuresByReason = new Map<string, number>();
  readonly #clock: () => number;
  readonly #onLockout: LockoutOptions['onLockout'];
  readonly #onFailure: LockoutOptions['onFailure'];
  readonly #entries = new Map<string, Entry>();

  constructor(options: LockoutOptions = {}) {
    this.maxFailures = positiveInt(options.maxFailures ?? 5, 'maxFailures');
    this.windowMs = positive(options.windowMs ?? 60_000, 'windowMs');
    this.cooldownMs = positive(options.cooldownMs ?? 300_000, 'cooldownMs');
    this.maxSources = positiveInt(options.maxSources ?? 100_000, 'maxSources');
    this.#clock = options.clock ?? Date.now;
    this.#onLockout = options.onLockout;
    this.#onFailure = options.onFailure;
  }

  /** Sources tracked now. */
  get size(): number {
    return this.#entries.size;
  }

  check(source: string): LockoutStatus {
    const entry = this.#entries.get(source);
    if (entry === undefined || entry.lockedUntil === 0) return OPEN;
    const now = this.#clock();
    if (now >= entry.lockedUntil) {
      entry.lockedUntil = 0;
      if (entry.failures.length === 0) this.#entries.delete(source);
      return OPEN;
    }
    this.stats.refused++;
    return { locked: true, retryAfterSeconds: Math.ceil((entry.lockedUntil - now) / 1000) };
  }

  /** Throws ERR_GUARD_LOCKED_OUT when `source` is locked out. */
  assertNotLocked(source: string): void {
    const status = this.check(source);
    if (status.locked) throw new GuardError('ERR_GUARD_LOCKED_OUT', 'source locked out after repeated authentication failures', { retryAfterSeconds: status.retryAfterSeconds });
  }

  /** Records one failed authentication; returns whether the source is now locked out. */
  recordFailure(source: string, reason: AuthFailureReason): LockoutStatus {
    const now = this.#clock();
    this.stats.failures++;
    this.failuresByReason.set(reason, (this.failuresByReason.get(reason) ?? 0) + 1);
    safe(() => this.#onFailure?.(source, reason));
    let entry = this.#entries.get(source);
    if (entry === undefined) {
      if (this.#entries.size >= this.maxSources) this.#evictOldest();
      entry = { failures: [], lockedUntil: 0 };
    } else {
      this.#entries.delete(source); // re-insert: most recently seen last
    }
    this.#entries.set(source, entry);
    if (entry.lockedUntil > now) {
      return { locked: true, retryAfterSeconds: Math.ceil((entry.lockedUntil - now) / 1000) };
    }
    const since = now - this.windowMs;
    const failures = entry.failures;
    while (failures.length > 0 && (failures[0] as number) <= since) failures.shift();
    failures.push(now);
    if (failures.length > this.maxFailures) failures.shift();
    if (failures.length < this.maxFailures) return OPEN;
    const count = failures.length;
    entry.failures = [];
    entry.lockedUntil = now + this.cooldownMs;
    this.stats.lockouts++;
    const event: LockoutEvent = { source, reason, failures: count, until: entry.lockedUntil };
    safe(() => this.#onLockout?.(event));
    return { locked: true, retryAfterSeconds: Math.ceil(this.cooldownMs / 1000) };
  }

  /** Lifts a lockout and forgets the source's failures (an operator action). */
  clear(source: string): void {
    this.#entries.delete(source);
  }

  #evictOldest(): void {
    const oldest = this.#entries.keys().next();
    if (oldest.done !== true) {
      this.#entries.delete(oldest.value);
      this.stats.evicted++;
    }
  }
}

function safe(fn: () => void): void {
  try {
    fn();
  } catch {
    /* hooks are for logs and metrics; they never break the request path */
  }
}

function positive(n: number, name: string): number {
  if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0) throw new RangeError(`${name} must be a positive number`);
  return n;
}

function positiveInt(n: number, name: string): number {
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`${name} must be a positive integer`);
  return n;
}
