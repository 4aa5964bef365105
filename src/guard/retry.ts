/**
 * Retries that cannot duplicate side effects: by default only idempotent
 * methods without a body are retried (never POST or PATCH; a request with a
 * body only when the route says it is idempotent), at most `maxRetries` times
 * (Envoy's `num_retries` default 1), and only while the retry budget allows
 * (Envoy `retry_budget`: retries in flight ≤ max(20% of active requests, 3)),
 * so an outage never multiplies the load on an upstream (SECURITY-CASES 79).
 */
import { GuardError } from './guard-error.js';
import type { Release } from './bulkhead.js';

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

export interface RetryableRequest {
  readonly method: string;
  /** The request carries a body (content-length > 0 or chunked). */
  readonly hasBody: boolean;
  /** The route declares the request idempotent (overrides method and body). */
  readonly idempotent?: boolean;
}

export function isRetryableRequest(request: RetryableRequest): boolean {
  if (request.idempotent === true) return true;
  if (request.idempotent === false || request.hasBody) return false;
  return IDEMPOTENT.has(request.method.toUpperCase());
}

export interface RetryBudgetOptions {
  /** Retries in flight as a percentage of active requests; default 20. */
  readonly budgetPercent?: number;
  /** Retries always allowed in flight; default 3. */
  readonly minRetryConcurrency?: number;
}

export class RetryBudget {
  readonly #percent: number;
  readonly #min: number;
  active = 0;
  retrying = 0;
  exhausted = 0;

  constructor(options: RetryBudgetOptions = {}) {
    this.#percent = options.budgetPercent ?? 20;
    this.#min = options.minRetryConcurrency ?? 3;
    if (!(this.#percent >= 0 && this.#percent <= 100)) throw new RangeError('budgetPercent must be between 0 and 100');
    if (!Number.isSafeInteger(this.#min) || this.#min < 0) throw new RangeError('minRetryConcurrency must be a non-negative integer');
  }

  /** Counts a request as active until the returned release is called. */
  startRequest(): Release {
    this.active++;
    return once(() => this.active--);
  }

  /** A retry slot, or undefined when the budget is spent. */
  tryRetry(): Release | undefined {
    const cap = Math.max(this.#min, Math.floor((this.active * this.#percent) / 100));
    if (this.retrying >= cap) {
      this.exhausted++;
      return undefined;
    }
    this.retrying++;
    return once(() => this.retrying--);
  }
}

export interface RetryOptions<T> {
  readonly request: RetryableRequest;
  /** Default 1. */
  readonly maxRetries?: number;
  readonly budget?: RetryBudget;
  /** Retry on this result (e.g. 502/503/504); default never. */
  readonly retryOnResult?: (result: T) => boolean;
  /** Retry on this error; default every error except a guard refusal (circuit open, bulkhead full, …). */
  readonly retryOnError?: (error: unknown) => boolean;
  /** Backoff base in ms (full jitter, doubling, capped at 10×); default 25 (Envoy). */
  readonly baseDelayMs?: number;
  readonly onRetry?: (attempt: number) => void;
}

const defaultRetryOnError = (error: unknown): boolean => !(error instanceof GuardError);

export async function retry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions<T>): Promise<T> {
  const retryable = isRetryableRequest(options.request);
  const maxRetries = retryable ? (options.maxRetries ?? 1) : 0;
  const retryOnError = options.retryOnError ?? defaultRetryOnError;
  const base = options.baseDelayMs ?? 25;
  const endRequest = options.budget?.startRequest();
  let retrySlot: Release | undefined;
  try {
    for (let attempt = 0; ; attempt++) {
      let outcome: { ok: true; value: T } | { ok: false; error: unknown };
      try {
        outcome = { ok: true, value: await fn(attempt) };
      } catch (error) {
        outcome = { ok: false, error };
      } finally {
        // A retry holds its budget slot until its attempt has finished.
        retrySlot?.();
        retrySlot = undefined;
      }
      const again = outcome.ok ? options.retryOnResult?.(outcome.value) === true : retryOnError(outcome.error);
      if (again && attempt < maxRetries) {
        retrySlot = options.budget === undefined ? () => undefined : options.budget.tryRetry();
      }
      if (retrySlot === undefined) {
        if (outcome.ok) return outcome.value;
        throw outcome.error;
      }
      options.onRetry?.(attempt + 1);
      if (base > 0) await delay(Math.random() * Math.min(base * 10, base * 2 ** attempt));
    }
  } finally {
    retrySlot?.();
    endRequest?.();
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function once(fn: () => void): Release {
  let done = false;
  return () => {
    if (!done) {
      done = true;
      fn();
    }
  };
}
