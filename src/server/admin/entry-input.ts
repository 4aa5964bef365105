/** Registration entries as the admin API receives them: NewEntry and partial updates, checked field by field. */
import type { TrustDomain } from '../../spiffe/trust-domain.js';
import type { EntryUpdate, NewEntry } from '../../store/types.js';
import * as f from './fields.js';
import { invalid } from './admin-error.js';
import { newEntry } from '../../store/new-entry.js';

const UPDATABLE = ['spiffeId', 'parentId', 'selectors', 'x509SvidTtl', 'jwtSvidTtl', 'dnsNames', 'admin', 'federatesWith', 'labels', 'hint', 'expiresAt'] as const;
const NEW_ENTRY_FIELDS: readonly string[] = ['id', ...UPDATABLE];

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** One field of an entry, checked; `field` is its path in the request. */
function entryField(name: (typeof UPDATABLE)[number], value: unknown, field: string, td: TrustDomain): unknown {
  switch (name) {
    case 'spiffeId':
      return f.workloadId(value, field, td).toString();
    case 'parentId':
      return f.localId(value, field, td).toString();
    case 'selectors':
      return f.selectors(value, field);
    case 'x509SvidTtl':
    case 'jwtSvidTtl':
      return f.ttl(value, field);
    case 'dnsNames':
      return f.dnsNames(value, field);
    case 'admin':
      return f.boolean(value, field);
    case 'federatesWith':
      return f.federatesWith(value, field, td);
    case 'labels':
      return f.labels(value, field);
    case 'hint':
      return f.string(value, field, f.MAX_HINT_BYTES, { allowEmpty: true });
    case 'expiresAt':
      return value === null ? null : f.epochSeconds(value, field);
  }
}

/** A NewEntry with every default filled in. `field` is its path (`entries[3]`). */
export function parseNewEntry(value: unknown, field: string, td: TrustDomain): NewEntry {
  const obj = f.object(value, field, NEW_ENTRY_FIELDS);
  const at = (key: string): string => f.join(field, key);
  const entry: Mutable<NewEntry> = newEntry({
    spiffeId: entryField('spiffeId', f.required(obj.spiffeId, at('spiffeId')), at('spiffeId'), td) as string,
    parentId: entryField('parentId', f.required(obj.parentId, at('parentId')), at('parentId'), td) as string,
    selectors: entryField('selectors', f.required(obj.selectors, at('selectors')), at('selectors'), td) as NewEntry['selectors'],
  });
  if (obj.id !== undefined) entry.id = f.entryId(obj.id, at('id'));
  for (const name of UPDATABLE) {
    if (name === 'spiffeId' || name === 'parentId' || name === 'selectors') continue;
    if (obj[name] !== undefined) (entry as Record<string, unknown>)[name] = entryField(name, obj[name], at(name), td);
  }
  if (entry.spiffeId === entry.parentId) throw invalid(at('parentId'), 'an entry cannot be its own parent');
  return entry;
}

/** A partial update: at least one field; the ID never changes. */
export function parseEntryUpdate(value: unknown, td: TrustDomain): EntryUpdate {
  const obj = f.object(value, '', UPDATABLE);
  const update: Record<string, unknown> = {};
  for (const name of UPDATABLE) {
    if (obj[name] !== undefined) update[name] = entryField(name, obj[name], name, td);
  }
  if (Object.keys(update).length === 0) throw invalid('', `an update needs at least one of: ${UPDATABLE.join(', ')}`);
  if (update.spiffeId !== undefined && update.spiffeId === update.parentId) throw invalid('parentId', 'an entry cannot be its own parent');
  return update as EntryUpdate;
}
