/**
 * Shape checks on what reaches the store. The API validates contents (SPIFFE
 * IDs, selector grammar, TTL ranges) before this; here we only refuse
 * records the schema could not hold faithfully, so a batch with one broken
 * entry writes nothing.
 */
import { StoreError } from '../store-error.js';
import type { NewEntry } from '../types.js';

function fail(index: number | null, field: string, expected: string): never {
  const where = index === null ? 'entry' : `entry ${index}`;
  throw new StoreError('ERR_STORE_INVALID', `${where}: ${field} must be ${expected}`);
}

const isText = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const isSeconds = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

export function checkEntry(entry: NewEntry, index: number | null): void {
  if (entry.id !== undefined && !isText(entry.id)) fail(index, 'id', 'a non-empty string when given');
  if (!isText(entry.spiffeId)) fail(index, 'spiffeId', 'a non-empty string');
  if (!isText(entry.parentId)) fail(index, 'parentId', 'a non-empty string');
  if (!Array.isArray(entry.selectors) || entry.selectors.length === 0) fail(index, 'selectors', 'a non-empty list');
  for (const s of entry.selectors) {
    if (typeof s !== 'object' || s === null || !isText(s.type) || typeof s.value !== 'string') {
      fail(index, 'selectors', 'a list of { type, value } strings');
    }
  }
  if (!isSeconds(entry.x509SvidTtl)) fail(index, 'x509SvidTtl', 'a whole number of seconds, 0 or more');
  if (!isSeconds(entry.jwtSvidTtl)) fail(index, 'jwtSvidTtl', 'a whole number of seconds, 0 or more');
  if (!Array.isArray(entry.dnsNames) || !entry.dnsNames.every((d) => typeof d === 'string')) fail(index, 'dnsNames', 'a list of strings');
  if (typeof entry.admin !== 'boolean') fail(index, 'admin', 'a boolean');
  if (!Array.isArray(entry.federatesWith) || !entry.federatesWith.every((d) => typeof d === 'string')) {
    fail(index, 'federatesWith', 'a list of strings');
  }
  const labels: unknown = entry.labels;
  if (typeof labels !== 'object' || labels === null || Array.isArray(labels) || !Object.values(labels).every((v) => typeof v === 'string')) {
    fail(index, 'labels', 'an object of strings');
  }
  if (typeof entry.hint !== 'string') fail(index, 'hint', 'a string');
  if (entry.expiresAt !== null && !isSeconds(entry.expiresAt)) fail(index, 'expiresAt', 'epoch seconds or null');
}
