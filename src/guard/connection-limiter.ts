/**
 * Open connections per caller (source IP before the handshake, SPIFFE ID
 * after it): `open(key)` returns a release function, or undefined when the
 * caller is at its limit (the proxy closes the connection or answers 503).
 * Only callers with open connections are kept, at most `maxKeys` of them.
 */
import type { Release } from './bulkhead.js';

export interface ConnectionLimiterOptions {
  readonly maxPerKey: number;
  /** Most distinct callers connected at once; default 10,000. */
  readonly maxKeys?: number;
}

export class ConnectionLimiter {
  readonly maxPerKey: number;
  readonly #maxKeys: number;
  readonly #counts = new Map<string, number>();
  rejected = 0;

  constructor(options: ConnectionLimiterOptions) {
    if (!Number.isSafeInteger(options.maxPerKey) || options.maxPerKey < 1) throw new RangeError('maxPerKey must be a positive integer');
    const maxKeys = options.maxKeys ?? 10_000;
    if (!Number.isSafeInteger(maxKeys) || maxKeys < 1) throw new RangeError('maxKeys must be a positive integer');
    this.maxPerKey = options.maxPerKey;
    this.#maxKeys = maxKeys;
  }

  get size(): number {
    return this.#counts.size;
  }

  count(key: string): number {
    return this.#counts.get(key) ?? 0;
  }

  open(key: string): Release | undefined {
    const n = this.#counts.get(key) ?? 0;
    if (n >= this.maxPerKey || (n === 0 && this.#counts.size >= this.#maxKeys)) {
      this.rejected++;
      return undefined;
    }
    this.#counts.set(key, n + 1);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const left = (this.#counts.get(key) ?? 1) - 1;
      if (left <= 0) this.#counts.delete(key);
      else this.#counts.set(key, left);
    };
  }
}
