/**
 * Token buckets: the rate limiter every part of meshward shares. A bucket
 * holds up to `burst` tokens and gains `ratePerSecond` tokens a second; a
 * call takes tokens or says how long to wait. `KeyedTokenBuckets` keeps one
 * bucket per key (a source IP, a caller's SPIFFE ID) with a bounded number of
 * keys, so a flood of new keys cannot grow memory without limit.
 *
 * Time is injected (`now` in milliseconds), so tests never sleep.
 */

export interface TokenBucketOptions {
  /** Tokens added per second; > 0. */
  readonly ratePerSecond: number;
  /** Most tokens held at once (and the largest single take); default `ratePerSecond`, at least 1. */
  readonly burst?: number;
}

export interface TakeResult {
  readonly allowed: boolean;
  /** When refused: milliseconds until the request would be allowed. */
  readonly retryAfterMs: number;
}

export interface ConsumeResult extends TakeResult {
  /** Tokens left after this call (fractional). */
  readonly remaining: number;
  /** Milliseconds until the bucket holds `burst` tokens again. */
  readonly fullInMs: number;
}

const ALLOWED: TakeResult = Object.freeze({ allowed: true, retryAfterMs: 0 });

function checkOptions(options: TokenBucketOptions): { rate: number; burst: number } {
  const rate = options.ratePerSecond;
  if (typeof rate !== 'number' || !Number.isFinite(rate) || rate <= 0) throw new RangeError('ratePerSecond must be a positive number');
  const burst = options.burst ?? Math.max(1, rate);
  if (typeof burst !== 'number' || !Number.isFinite(burst) || burst < 1) throw new RangeError('burst must be a number of at least 1');
  return { rate, burst };
}

export class TokenBucket {
  readonly ratePerSecond: number;
  readonly burst: number;
  #tokens: number;
  #updatedAt: number;

  constructor(options: TokenBucketOptions, now: number = Date.now()) {
    const { rate, burst } = checkOptions(options);
    this.ratePerSecond = rate;
    this.burst = burst;
    this.#tokens = burst;
    this.#updatedAt = now;
  }

  /** Tokens available at `now`. */
  available(now: number = Date.now()): number {
    this.#refill(now);
    return this.#tokens;
  }

  /** Takes `count` tokens (capped at `burst`) when available; otherwise takes nothing. */
  take(count = 1, now: number = Date.now()): TakeResult {
    this.#refill(now);
    const wanted = Math.min(Math.max(count, 0), this.burst);
    if (this.#tokens >= wanted) {
      this.#tokens -= wanted;
      return ALLOWED;
    }
    return { allowed: false, retryAfterMs: Math.ceil(((wanted - this.#tokens) / this.ratePerSecond) * 1000) };
  }

  /**
   * Like `take`, and also reports what is left: `remaining` tokens after this call
   * and `fullInMs`, the milliseconds until the bucket is full again.
   */
  consume(count = 1, now: number = Date.now()): ConsumeResult {
    const r = this.take(count, now);
    const tokens = this.#tokens;
    return { allowed: r.allowed, retryAfterMs: r.retryAfterMs, remaining: tokens, fullInMs: Math.ceil(((this.burst - tokens) / this.ratePerSecond) * 1000) };
  }

  /** True when the bucket is full at `now` (it can be forgotten without changing behaviour). */
  isFull(now: number = Date.now()): boolean {
    return this.available(now) >= this.burst;
  }

  #refill(now: number): void {
    const elapsed = now - this.#updatedAt;
    if (elapsed > 0) {
      this.#tokens = Math.min(this.burst, this.#tokens + (elapsed / 1000) * this.ratePerSecond);
      this.#updatedAt = now;
    }
  }
}

export interface KeyedTokenBucketsOptions extends TokenBucketOptions {
  /** Most keys tracked; when full, full buckets are dropped first, then the oldest. Default 100,000. */
  readonly maxKeys?: number;
}

export class KeyedTokenBuckets {
  readonly #options: { ratePerSecond: number; burst: number };
  readonly #maxKeys: number;
  readonly #buckets = new Map<string, TokenBucket>();

  constructor(options: KeyedTokenBucketsOptions) {
    const { rate, burst } = checkOptions(options);
    this.#options = { ratePerSecond: rate, burst };
    const maxKeys = options.maxKeys ?? 100_000;
    if (!Number.isSafeInteger(maxKeys) || maxKeys < 1) throw new RangeError('maxKeys must be a positive integer');
    this.#maxKeys = maxKeys;
  }

  get size(): number {
    return this.#buckets.size;
  }

  take(key: string, count = 1, now: number = Date.now()): TakeResult {
    return this.#bucket(key, now).take(count, now);
  }

  /** Like `take`, with the tokens left and the time until the bucket is full again. */
  consume(key: string, count = 1, now: number = Date.now()): ConsumeResult {
    return this.#bucket(key, now).consume(count, now);
  }

  #bucket(key: string, now: number): TokenBucket {
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      if (this.#buckets.size >= this.#maxKeys) this.#evict(now);
      bucket = new TokenBucket(this.#options, now);
      this.#buckets.set(key, bucket);
    }
    return bucket;
  }

  /** Forgets buckets that are full again (callers may run this periodically). */
  prune(now: number = Date.now()): void {
    for (const [key, bucket] of this.#buckets) if (bucket.isFull(now)) this.#buckets.delete(key);
  }

  #evict(now: number): void {
    this.prune(now);
    // Still full: drop the oldest tenth (Map iterates in insertion order).
    if (this.#buckets.size >= this.#maxKeys) {
      let drop = Math.max(1, Math.floor(this.#maxKeys / 10));
      for (const key of this.#buckets.keys()) {
        this.#buckets.delete(key);
        if (--drop === 0) break;
      }
    }
  }
}
