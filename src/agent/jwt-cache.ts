/**
 * JWT-SVIDs by (SPIFFE ID, sorted audiences), fetched from the server
 * (`POST /agent/v1/jwt`) and reused until their half-life. Bounded: past
 * `maxEntries`, expired tokens go first, then the oldest. Tokens never reach
 * a log.
 */
import { rotateAt } from './rotation.js';

interface CachedJwt {
  readonly token: string;
  readonly spiffeId: string;
  readonly expiresAt: number;
  readonly refreshAt: number;
}

export class JwtCache {
  readonly #tokens = new Map<string, CachedJwt>();
  readonly #inflight = new Map<string, Promise<CachedJwt>>();
  readonly #max: number;
  readonly #now: () => number;

  constructor(options: { maxEntries?: number; now?: () => number } = {}) {
    this.#max = options.maxEntries ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  static key(spiffeId: string, audience: readonly string[]): string {
    return `${spiffeId}\u0000${[...new Set(audience)].sort().join('\u0000')}`;
  }

  /** A fresh token from cache, or one fetched by `fetch` (concurrent callers share one fetch). A stale but valid token is used when the fetch fails. */
  async get(spiffeId: string, audience: readonly string[], fetch: () => Promise<{ token: string; expiresAt: number }>): Promise<string> {
    const key = JwtCache.key(spiffeId, audience);
    const now = this.#now();
    const known = this.#tokens.get(key);
    if (known !== undefined && known.refreshAt > now) return known.token;
    let pending = this.#inflight.get(key);
    if (pending === undefined) {
      pending = (async () => {
        const requestedAt = this.#now();
        const got = await fetch();
        const expiresAt = got.expiresAt * 1000;
        const cached = { token: got.token, spiffeId, expiresAt, refreshAt: rotateAt(requestedAt, expiresAt) };
        this.#store(key, cached);
        return cached;
      })().finally(() => this.#inflight.delete(key));
      this.#inflight.set(key, pending);
    }
    try {
      return (await pending).token;
    } catch (err) {
      if (known !== undefined && known.expiresAt > this.#now() + 1000) return known.token;
      throw err;
    }
  }

  /** Forgets every token of IDs not in `keep` (entry removed, revoked). */
  retain(keep: ReadonlySet<string>): void {
    for (const [k, v] of this.#tokens) if (!keep.has(v.spiffeId)) this.#tokens.delete(k);
  }

  dropId(spiffeId: string): void {
    for (const [k, v] of this.#tokens) if (v.spiffeId === spiffeId) this.#tokens.delete(k);
  }

  get size(): number {
    return this.#tokens.size;
  }

  #store(key: string, value: CachedJwt): void {
    this.#tokens.delete(key);
    if (this.#tokens.size >= this.#max) {
      const now = this.#now();
      for (const [k, v] of this.#tokens) if (v.expiresAt <= now) this.#tokens.delete(k);
      while (this.#tokens.size >= this.#max) this.#tokens.delete(this.#tokens.keys().next().value!);
    }
    this.#tokens.set(key, value);
  }
}
