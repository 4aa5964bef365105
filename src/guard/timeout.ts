/**
 * A deadline on every hop: `withTimeout(fn, ms)` runs `fn(signal)` through
 * cockatiel's cooperative-then-aggressive `TimeoutPolicy` (the signal aborts
 * at the deadline and the call rejects then, whether or not `fn` listens), and
 * turns the timeout into ERR_GUARD_UPSTREAM_TIMEOUT (504).
 */
import { TaskCancelledError, timeout, TimeoutStrategy } from 'cockatiel';
import { GuardError } from './guard-error.js';

export async function withTimeout<T>(fn: (signal: AbortSignal) => Promise<T>, ms: number, signal?: AbortSignal): Promise<T> {
  if (!Number.isFinite(ms) || ms <= 0) throw new RangeError('timeout must be a positive number of milliseconds');
  try {
    return await timeout(ms, TimeoutStrategy.Aggressive).execute(({ signal: s }) => fn(s), signal);
  } catch (error) {
    if (error instanceof TaskCancelledError && signal?.aborted !== true) {
      throw new GuardError('ERR_GUARD_UPSTREAM_TIMEOUT', `upstream did not answer within ${ms} ms`, { cause: error });
    }
    throw error;
  }
}
