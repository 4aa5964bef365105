/**
 * The last answer of each server read and what the agent derived from it.
 * The full sync reads everything every 5 s; when an answer is byte for byte
 * the last one, the value derived from it (entries, parsed bundles) is
 * handed back instead of being parsed again. Parsing ~1,000 entries and the
 * bundle's certificates held the event loop ~10 ms every 5 s, and Workload
 * API answers waited meanwhile. Handing back the same objects keeps every
 * later step as it was (the cache compares, finds nothing new).
 */
export class AnswerMemo {
  readonly #last = new Map<string, { bytes: Buffer; value: unknown }>();

  /**
   * `derive(bytes)`, or the value it gave for the same `key` and bytes last time (compared as bytes: no
   * string of a ~400 KB answer is made every 5 s). A throw is not kept.
   */
  get<T>(key: string, bytes: Buffer, derive: (bytes: Buffer) => T): T {
    const last = this.#last.get(key);
    if (last !== undefined && last.bytes.equals(bytes)) return last.value as T;
    const value = derive(bytes);
    this.#last.set(key, { bytes, value });
    return value;
  }
}
