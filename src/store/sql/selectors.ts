import { createHash } from 'node:crypto';
import type { Selector } from '../types.js';

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Sorted by type then value (code units, not locale), duplicates removed: the form every record holds. */
export function canonicalSelectors(selectors: readonly Selector[]): Selector[] {
  const sorted = selectors
    .map((s) => ({ type: s.type, value: s.value }))
    .sort((a, b) => compare(a.type, b.type) || compare(a.value, b.value));
  return sorted.filter((s, i) => i === 0 || s.type !== sorted[i - 1]!.type || s.value !== sorted[i - 1]!.value);
}

/**
 * SPIRE's "similar entry" rule as one fixed-size unique key: a hash of the
 * SPIFFE ID, parent ID and canonical selectors. (A unique index on the raw
 * columns would exceed PostgreSQL's btree row limit for long IDs or many selectors.)
 */
export function similarityKey(spiffeId: string, parentId: string, selectors: readonly Selector[]): string {
  const canonical = JSON.stringify([spiffeId, parentId, selectors.map((s) => [s.type, s.value])]);
  return createHash('sha256').update(canonical).digest('hex');
}
