/** A NewEntry from its three required fields, every optional field at its default. */
import type { NewEntry } from './types.js';

export function newEntry(required: Pick<NewEntry, 'spiffeId' | 'parentId' | 'selectors'> & Partial<NewEntry>): NewEntry {
  return {
    x509SvidTtl: 0,
    jwtSvidTtl: 0,
    dnsNames: [],
    admin: false,
    federatesWith: [],
    labels: {},
    hint: '',
    expiresAt: null,
    ...required,
  };
}
