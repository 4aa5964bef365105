/** Fake timers for the federation tests: nothing fires until the test says so. */
import type { Timers } from '../../../src/server/federation/index.js';

export class FakeTimers implements Timers {
  readonly pending = new Map<number, { fn: () => void; ms: number }>();
  #next = 1;

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.#next++;
    this.pending.set(id, { fn, ms });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }

  /** Delays (ms) of the timers now pending. */
  delays(): number[] {
    return [...this.pending.values()].map((p) => p.ms);
  }

  /** Runs every pending timer once. */
  fireAll(): void {
    const due = [...this.pending.entries()];
    for (const [id, { fn }] of due) {
      this.pending.delete(id);
      fn();
    }
  }
}

/** Waits until `check` is true, polling the event loop (no fixed sleeps). */
export async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}
