/**
 * When to rotate (SPIRE's rotationutil): at a jittered half-life — when the
 * time left is at most half the lifetime, ±10 % of that half — or when
 * expired. Computed once per SVID, so one agent's SVIDs spread out.
 */
export function rotateAt(notBeforeMs: number, expiresAtMs: number, random: () => number = Math.random): number {
  const lifetime = Math.max(0, expiresAtMs - notBeforeMs);
  const half = lifetime / 2;
  const jitter = (random() * 2 - 1) * 0.1 * half;
  return Math.round(expiresAtMs - (half + jitter));
}

/**
 * Reconnection delays: 1 s doubling to 30 s, each jittered ±20 % (capped at
 * 30 s), reset after a success.
 */
export class Backoff {
  readonly #min: number;
  readonly #max: number;
  #attempt = 0;

  constructor(minMs = 1000, maxMs = 30_000) {
    this.#min = minMs;
    this.#max = maxMs;
  }

  next(random: () => number = Math.random): number {
    const base = Math.min(this.#max, this.#min * 2 ** Math.min(this.#attempt, 20));
    this.#attempt++;
    return Math.min(this.#max, Math.round(base * (0.8 + random() * 0.4)));
  }

  reset(): void {
    this.#attempt = 0;
  }

  get attempts(): number {
    return this.#attempt;
  }
}
