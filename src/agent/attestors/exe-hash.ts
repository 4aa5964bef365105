/**
 * SHA-256 of a process's executable, read through /proc/PID/exe (the file
 * the process runs, even when its path was replaced or deleted since),
 * bounded by a size limit (hashing is a denial-of-service vector: a caller
 * could run a huge binary) and cached by (dev, ino, mtime, size).
 */
import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';

const MAX_CACHED = 4096;

export class ExeHasher {
  readonly #limit: number;
  readonly #cache = new Map<string, string>();
  /** Hashes under way, by file: callers running the same executable wait for one read, not one each. */
  readonly #inFlight = new Map<string, Promise<string | undefined>>();

  /** `limitBytes`: executables larger than this are not hashed (no sha256 selector). */
  constructor(limitBytes: number) {
    this.#limit = limitBytes;
  }

  /** Hex digest, or undefined when over the limit or unreadable. */
  async hash(pid: number): Promise<string | undefined> {
    const path = `/proc/${pid}/exe`;
    const st = statSync(path);
    if (!st.isFile() || st.size > this.#limit) return undefined;
    const key = `${st.dev}:${st.ino}:${st.mtimeMs}:${st.size}`;
    const known = this.#cache.get(key);
    if (known !== undefined) return known;
    const shared = this.#inFlight.get(key);
    // Another caller's read failed (its process exited mid-read, say): read through our own pid.
    if (shared !== undefined) return shared.catch(() => this.#hashFile(path, key));
    const pending = this.#hashFile(path, key).finally(() => this.#inFlight.delete(key));
    this.#inFlight.set(key, pending);
    return pending;
  }

  async #hashFile(path: string, key: string): Promise<string | undefined> {
    const hash = createHash('sha256');
    let read = 0;
    for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) {
      read += (chunk as Buffer).length;
      if (read > this.#limit) return undefined;
      hash.update(chunk as Buffer);
    }
    const digest = hash.digest('hex');
    // The file must not have changed while it was read.
    const after = statSync(path);
    if (`${after.dev}:${after.ino}:${after.mtimeMs}:${after.size}` !== key) return undefined;
    if (this.#cache.size >= MAX_CACHED) this.#cache.delete(this.#cache.keys().next().value!);
    this.#cache.set(key, digest);
    return digest;
  }
}
