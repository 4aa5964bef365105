/**
 * Passive health checking of an upstream's endpoints (Envoy outlier
 * detection, SECURITY-CASES 80): `consecutive5xx` (default 5) gateway or
 * server errors in a row eject an endpoint for `baseEjectionMs` (30 s) × the
 * times it was ejected (capped at `maxEjectionMs`, 300 s), never ejecting
 * more than `maxEjectionPercent` (10%) of the endpoints — but always at least one.
 * As in Envoy, the ejection multiplier goes down by one for every
 * `intervalMs` (10 s) an endpoint stays back in service, so an endpoint that
 * recovered is not punished forever for old failures.
 */

export interface OutlierDetectionOptions {
  readonly consecutive5xx?: number;
  readonly baseEjectionMs?: number;
  readonly maxEjectionMs?: number;
  readonly maxEjectionPercent?: number;
  /** Time in service that takes one off the ejection multiplier; default 10 s (Envoy's `interval`). */
  readonly intervalMs?: number;
  readonly clock?: () => number;
  readonly onEject?: (endpoint: string, until: number) => void;
}

interface Endpoint {
  consecutive: number;
  ejections: number;
  ejectedUntil: number;
  /** From when, back in service, time counts towards lowering `ejections`. */
  decayFrom: number;
}

export class OutlierDetector {
  readonly #consecutive: number;
  readonly #base: number;
  readonly #max: number;
  readonly #percent: number;
  readonly #interval: number;
  readonly #clock: () => number;
  readonly #onEject: OutlierDetectionOptions['onEject'];
  readonly #endpoints = new Map<string, Endpoint>();

  constructor(endpoints: readonly string[], options: OutlierDetectionOptions = {}) {
    this.#consecutive = options.consecutive5xx ?? 5;
    this.#base = options.baseEjectionMs ?? 30_000;
    this.#max = options.maxEjectionMs ?? 300_000;
    this.#percent = options.maxEjectionPercent ?? 10;
    this.#interval = options.intervalMs ?? 10_000;
    if (!(this.#interval > 0)) throw new RangeError('intervalMs must be positive');
    if (!Number.isSafeInteger(this.#consecutive) || this.#consecutive < 1) throw new RangeError('consecutive5xx must be a positive integer');
    if (!(this.#percent >= 0 && this.#percent <= 100)) throw new RangeError('maxEjectionPercent must be between 0 and 100');
    this.#clock = options.clock ?? Date.now;
    this.#onEject = options.onEject;
    for (const e of endpoints) this.#endpoints.set(e, { consecutive: 0, ejections: 0, ejectedUntil: 0, decayFrom: 0 });
  }

  /** Records a response (or a connection failure as status 502) from `endpoint`. */
  record(endpoint: string, status: number): void {
    const e = this.#endpoints.get(endpoint);
    if (e === undefined) return;
    if (status < 500) {
      e.consecutive = 0;
      return;
    }
    if (++e.consecutive < this.#consecutive || this.isEjected(endpoint)) return;
    const now = this.#clock();
    const ejected = this.ejectedCount();
    const total = this.#endpoints.size;
    if (ejected > 0 && ((ejected + 1) * 100) / total > this.#percent) return;
    this.#decay(e, now);
    e.ejections++;
    e.consecutive = 0;
    e.ejectedUntil = now + Math.min(this.#max, this.#base * e.ejections);
    e.decayFrom = e.ejectedUntil;
    this.#onEject?.(endpoint, e.ejectedUntil);
  }

  /** One off the multiplier per whole interval in service since `decayFrom`. */
  #decay(e: Endpoint, now: number): void {
    if (e.ejections === 0 || now <= e.decayFrom) return;
    const intervals = Math.floor((now - e.decayFrom) / this.#interval);
    if (intervals === 0) return;
    e.ejections = Math.max(0, e.ejections - intervals);
    e.decayFrom += intervals * this.#interval;
  }

  isEjected(endpoint: string): boolean {
    const e = this.#endpoints.get(endpoint);
    return e !== undefined && e.ejectedUntil > this.#clock();
  }

  ejectedCount(): number {
    const now = this.#clock();
    let n = 0;
    for (const e of this.#endpoints.values()) if (e.ejectedUntil > now) n++;
    return n;
  }

  /** Endpoints that may receive traffic now. */
  healthy(): string[] {
    const now = this.#clock();
    return [...this.#endpoints].filter(([, e]) => e.ejectedUntil <= now).map(([k]) => k);
  }
}
