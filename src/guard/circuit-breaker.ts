/**
 * An outbound circuit breaker for one upstream. *When* to open is cockatiel's
 * `IBreaker` (default `SamplingBreaker`: ≥ 50% failures over 10 s, and only at
 * ≥ 5 requests/s so that 1 failure in 2 at low traffic never trips,
 * SECURITY-CASES 82); the *state machine* is ours because cockatiel 3.2.1's
 * half-open state makes every other caller wait for the probe and then run
 * (`await state.test` in `CircuitBreakerPolicy.execute`) instead of failing
 * fast. Here half-open admits at most `halfOpenProbes` calls; everything else
 * fails fast with ERR_GUARD_CIRCUIT_OPEN (503, SECURITY-CASES 81), and
 * `successesToClose` successful probes close the circuit. Each re-opening
 * doubles the open time up to `maxOpenMs` (Envoy: base_ejection_time × ejections).
 *
 * Calls are admitted with `enter()`, which returns a ticket the caller settles
 * with `success()` or `failure()` once the response status is known; settling a
 * ticket from an earlier state is ignored.
 */
import { CircuitState, ConsecutiveBreaker, CountBreaker, SamplingBreaker, type IBreaker } from 'cockatiel';
import { GuardError } from './guard-error.js';

export type CircuitStateName = 'closed' | 'open' | 'half-open';

export type BreakerSpec =
  | { readonly kind: 'sampling'; readonly threshold: number; readonly durationMs: number; readonly minimumRps: number }
  | { readonly kind: 'count'; readonly threshold: number; readonly size: number; readonly minimumNumberOfCalls: number }
  | { readonly kind: 'consecutive'; readonly failures: number };

export interface CircuitBreakerOptions {
  /** When to open; default `{ kind: 'sampling', threshold: 0.5, durationMs: 10_000, minimumRps: 5 }`. */
  readonly breaker?: BreakerSpec;
  /** How long the circuit stays open before probing; default 10,000 ms. */
  readonly openMs?: number;
  /** Longest open time after repeated re-openings; default 300,000 ms. */
  readonly maxOpenMs?: number;
  /** Calls admitted while half-open; default 1. */
  readonly halfOpenProbes?: number;
  /** Successful probes that close the circuit; default `halfOpenProbes`. */
  readonly successesToClose?: number;
  readonly clock?: () => number;
  readonly onStateChange?: (state: CircuitStateName) => void;
}

export interface CircuitTicket {
  success(): void;
  failure(): void;
}

export const DEFAULT_BREAKER: BreakerSpec = { kind: 'sampling', threshold: 0.5, durationMs: 10_000, minimumRps: 5 };

export function makeBreaker(spec: BreakerSpec): IBreaker {
  switch (spec.kind) {
    case 'sampling':
      return new SamplingBreaker({ threshold: spec.threshold, duration: spec.durationMs, minimumRps: spec.minimumRps });
    case 'count':
      return new CountBreaker({ threshold: spec.threshold, size: spec.size, minimumNumberOfCalls: spec.minimumNumberOfCalls });
    case 'consecutive':
      return new ConsecutiveBreaker(spec.failures);
  }
}

const NOOP_TICKET: CircuitTicket = Object.freeze({ success: () => undefined, failure: () => undefined });

export class CircuitBreaker {
  readonly #spec: BreakerSpec;
  readonly #openMs: number;
  readonly #maxOpenMs: number;
  readonly #probes: number;
  readonly #successesToClose: number;
  readonly #clock: () => number;
  readonly #onStateChange: CircuitBreakerOptions['onStateChange'];
  #breaker: IBreaker;
  #state: CircuitStateName = 'closed';
  #generation = 0;
  #openedAt = 0;
  #openFor = 0;
  #openings = 0;
  #admitted = 0;
  #successes = 0;
  readonly stats = { rejected: 0, opened: 0 };

  constructor(options: CircuitBreakerOptions = {}) {
    this.#spec = options.breaker ?? DEFAULT_BREAKER;
    this.#breaker = makeBreaker(this.#spec);
    this.#openMs = positive(options.openMs ?? 10_000, 'openMs');
    this.#maxOpenMs = Math.max(this.#openMs, positive(options.maxOpenMs ?? 300_000, 'maxOpenMs'));
    this.#probes = positiveInt(options.halfOpenProbes ?? 1, 'halfOpenProbes');
    this.#successesToClose = positiveInt(options.successesToClose ?? this.#probes, 'successesToClose');
    if (this.#successesToClose > this.#probes) throw new RangeError('successesToClose must not exceed halfOpenProbes');
    this.#clock = options.clock ?? Date.now;
    this.#onStateChange = options.onStateChange;
  }

  get state(): CircuitStateName {
    if (this.#state === 'open' && this.#clock() - this.#openedAt >= this.#openFor) return 'half-open';
    return this.#state;
  }

  /** Admits one call or throws ERR_GUARD_CIRCUIT_OPEN (fail fast). */
  enter(): CircuitTicket {
    if (this.#state === 'closed') return this.#ticket(this.#generation);
    if (this.#state === 'open') {
      const now = this.#clock();
      if (now - this.#openedAt < this.#openFor) return this.#reject(Math.ceil((this.#openFor - (now - this.#openedAt)) / 1000));
      this.#transition('half-open');
    }
    if (this.#admitted >= this.#probes) return this.#reject(1);
    this.#admitted++;
    return this.#ticket(this.#generation);
  }

  /** Runs `fn` through the breaker; a rejection of `fn` (or `isFailure(result)`) counts as a failure. */
  async execute<T>(fn: () => Promise<T>, isFailure?: (result: T) => boolean): Promise<T> {
    const ticket = this.enter();
    let result: T;
    try {
      result = await fn();
    } catch (error) {
      ticket.failure();
      throw error;
    }
    if (isFailure?.(result) === true) ticket.failure();
    else ticket.success();
    return result;
  }

  #reject(retryAfterSeconds: number): never {
    this.stats.rejected++;
    throw new GuardError('ERR_GUARD_CIRCUIT_OPEN', 'upstream circuit open', { retryAfterSeconds: Math.max(1, retryAfterSeconds) });
  }

  #ticket(generation: number): CircuitTicket {
    let settled = false;
    if (this.#state === 'closed') {
      return {
        success: () => {
          if (settled || generation !== this.#generation) return;
          settled = true;
          this.#breaker.success(CircuitState.Closed);
        },
        failure: () => {
          if (settled || generation !== this.#generation) return;
          settled = true;
          if (this.#breaker.failure(CircuitState.Closed)) this.#open();
        },
      };
    }
    if (this.#state !== 'half-open') return NOOP_TICKET;
    return {
      success: () => {
        if (settled || generation !== this.#generation) return;
        settled = true;
        if (++this.#successes >= this.#successesToClose) this.#close();
      },
      failure: () => {
        if (settled || generation !== this.#generation) return;
        settled = true;
        this.#open();
      },
    };
  }

  #open(): void {
    this.#openings++;
    this.#openFor = Math.min(this.#maxOpenMs, this.#openMs * 2 ** Math.min(this.#openings - 1, 30));
    this.#openedAt = this.#clock();
    this.stats.opened++;
    this.#transition('open');
  }

  #close(): void {
    this.#openings = 0;
    this.#breaker = makeBreaker(this.#spec);
    this.#transition('closed');
  }

  #transition(state: CircuitStateName): void {
    this.#state = state;
    this.#generation++;
    this.#admitted = 0;
    this.#successes = 0;
    try {
      this.#onStateChange?.(state);
    } catch {
      /* metrics hooks never break calls */
    }
  }
}

export interface UpstreamBreakersOptions extends Omit<CircuitBreakerOptions, 'onStateChange'> {
  readonly onStateChange?: (upstream: string, state: CircuitStateName) => void;
}

/** One breaker per upstream (created on first use; upstreams come from configuration, so the set is small). */
export class UpstreamBreakers {
  readonly #options: UpstreamBreakersOptions;
  readonly #breakers = new Map<string, CircuitBreaker>();

  constructor(options: UpstreamBreakersOptions = {}) {
    this.#options = options;
    new CircuitBreaker({ ...options, onStateChange: undefined }); // validate options now
  }

  get(upstream: string): CircuitBreaker {
    let breaker = this.#breakers.get(upstream);
    if (breaker === undefined) {
      const hook = this.#options.onStateChange;
      breaker = new CircuitBreaker({ ...this.#options, onStateChange: hook === undefined ? undefined : (state) => hook(upstream, state) });
      this.#breakers.set(upstream, breaker);
    }
    return breaker;
  }

  states(): Map<string, CircuitStateName> {
    return new Map([...this.#breakers].map(([k, b]) => [k, b.state]));
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
