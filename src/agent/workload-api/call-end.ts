/**
 * When a call ends (answered, cancelled by the client, RST_STREAM, the
 * connection closed): a flag and the few callbacks waiting for it. Used
 * instead of an AbortController per call, which allocates an AbortSignal (an
 * EventTarget), an Event on abort and listener records — about a tenth of the
 * agent's CPU for a FetchX509SVID answered from cache.
 */
export class CallEnd {
  #ended = false;
  #waiting: Array<() => void> | undefined;

  get ended(): boolean {
    return this.#ended;
  }

  /** Marks the call ended and runs the callbacks once; later calls do nothing. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    const waiting = this.#waiting;
    this.#waiting = undefined;
    if (waiting !== undefined) for (const fn of waiting) fn();
  }

  /** Runs `fn` when the call ends (never when it already has: check `ended` first). */
  onEnd(fn: () => void): void {
    if (this.#ended) return;
    (this.#waiting ??= []).push(fn);
  }

  offEnd(fn: () => void): void {
    const waiting = this.#waiting;
    if (waiting === undefined) return;
    const i = waiting.indexOf(fn);
    if (i >= 0) waiting.splice(i, 1);
  }
}
