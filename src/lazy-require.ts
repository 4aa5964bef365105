/**
 * Loads a CommonJS driver (better-sqlite3, pg, ioredis) the first time a
 * feature needs it rather than when its module is imported: a sidecar with
 * a file audit sink and local limits then never holds those drivers in
 * memory. Synchronous, so constructors stay synchronous.
 */
import { createRequire } from 'node:module';

const requireHere = createRequire(import.meta.url);

export function lazyRequire<T>(specifier: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= requireHere(specifier) as T);
}
