import { randomUUID } from 'node:crypto';
import { StoreError } from '../store-error.js';
import type { EntryFilter, EntryUpdate, NewEntry, RegistrationEntry, Selector } from '../types.js';
import { checkEntry } from './check-entry.js';
import { ENTRY_COLUMNS, toEntry } from './rows.js';
import { canonicalSelectors, similarityKey } from './selectors.js';
import { change, sql, sqlOrConflict, type Op, type SqlStep } from './statement.js';

function entryConflict(entry: RegistrationEntry): (hint: string) => string {
  return (hint) =>
    hint.includes('similarity')
      ? `an entry with spiffeId "${entry.spiffeId}", parentId "${entry.parentId}" and the same selectors already exists`
      : `entry "${entry.id}" already exists`;
}

/** The entry's columns after `id`, in ENTRY_COLUMNS order, plus its similarity key. */
function entryValues(e: RegistrationEntry) {
  return [
    e.spiffeId,
    e.parentId,
    JSON.stringify(e.selectors),
    similarityKey(e.spiffeId, e.parentId, e.selectors),
    e.x509SvidTtl,
    e.jwtSvidTtl,
    JSON.stringify(e.dnsNames),
    e.admin,
    JSON.stringify(e.federatesWith),
    JSON.stringify(e.labels),
    e.hint,
    e.expiresAt,
  ] as const;
}

function insertSelectors(entryId: string, selectors: readonly Selector[]): SqlStep {
  const rows = selectors.map(() => '(?, ?, ?)').join(', ');
  return sql(`INSERT INTO entry_selectors (entry_id, type, value) VALUES ${rows}`, ...selectors.flatMap((s) => [entryId, s.type, s.value]));
}

function toRecord(input: NewEntry, now: number): RegistrationEntry {
  return {
    id: input.id ?? randomUUID(),
    spiffeId: input.spiffeId,
    parentId: input.parentId,
    selectors: canonicalSelectors(input.selectors),
    x509SvidTtl: input.x509SvidTtl,
    jwtSvidTtl: input.jwtSvidTtl,
    dnsNames: [...input.dnsNames],
    admin: input.admin,
    federatesWith: [...input.federatesWith],
    labels: { ...input.labels },
    hint: input.hint,
    expiresAt: input.expiresAt,
    revision: 1,
    createdAt: now,
    updatedAt: now,
  };
}

/** All or nothing: every entry is checked before the first insert, and any conflict rolls the batch back. */
export function* createEntriesOp(inputs: readonly NewEntry[], now: number): Op<RegistrationEntry[]> {
  inputs.forEach((input, i) => checkEntry(input, inputs.length === 1 ? null : i));
  const created = inputs.map((input) => toRecord(input, now));
  for (const entry of created) {
    yield sqlOrConflict(
      entryConflict(entry),
      `INSERT INTO entries (id, spiffe_id, parent_id, selectors, similarity_key, x509_svid_ttl, jwt_svid_ttl, dns_names, admin,
         federates_with, labels, hint, expires_at, revision, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      entry.id,
      ...entryValues(entry),
      entry.revision,
      entry.createdAt,
      entry.updatedAt,
    );
    yield insertSelectors(entry.id, entry.selectors);
    yield change('entry', entry.id, now);
  }
  return created;
}

export function* getEntryOp(id: string): Op<RegistrationEntry | null> {
  const { rows } = yield sql(`SELECT ${ENTRY_COLUMNS} FROM entries WHERE id = ?`, id);
  return rows[0] ? toEntry(rows[0]) : null;
}

export function* listEntriesOp(filter: EntryFilter = {}): Op<RegistrationEntry[]> {
  const where: string[] = [];
  const params: (string | number)[] = [];
  if (filter.spiffeId !== undefined) {
    where.push('spiffe_id = ?');
    params.push(filter.spiffeId);
  }
  if (filter.parentId !== undefined) {
    where.push('parent_id = ?');
    params.push(filter.parentId);
  }
  const selectors = canonicalSelectors(filter.selectors ?? []);
  if (selectors.length > 0) {
    // Entries holding every given selector: count the matches per entry.
    const any = selectors.map(() => '(type = ? AND value = ?)').join(' OR ');
    where.push(`id IN (SELECT entry_id FROM entry_selectors WHERE ${any} GROUP BY entry_id HAVING COUNT(*) = ?)`);
    params.push(...selectors.flatMap((s) => [s.type, s.value]), selectors.length);
  }
  const clause = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
  const { rows } = yield sql(`SELECT ${ENTRY_COLUMNS} FROM entries ${clause} ORDER BY created_at, id`, ...params);
  return rows.map(toEntry);
}

/** Never taken from an update, even if a caller slips them in. */
const FIXED_FIELDS = new Set(['id', 'revision', 'createdAt', 'updatedAt']);

export function* updateEntryOp(id: string, update: EntryUpdate, now: number): Op<RegistrationEntry> {
  // Bumping the revision first locks the row (PostgreSQL) and reads it, so concurrent updates apply one after the other.
  const { rows } = yield sql(
    `UPDATE entries SET revision = revision + 1, updated_at = ? WHERE id = ? RETURNING ${ENTRY_COLUMNS}`,
    now,
    id,
  );
  if (!rows[0]) throw new StoreError('ERR_STORE_NOT_FOUND', `entry "${id}" not found`);
  const current = toEntry(rows[0]);
  const changes = Object.fromEntries(Object.entries(update).filter(([key, v]) => v !== undefined && !FIXED_FIELDS.has(key)));
  const merged: RegistrationEntry = { ...current, ...changes, id };
  checkEntry(merged, null);
  const updated: RegistrationEntry = { ...merged, selectors: canonicalSelectors(merged.selectors) };
  yield sqlOrConflict(
    entryConflict(updated),
    `UPDATE entries SET spiffe_id = ?, parent_id = ?, selectors = ?, similarity_key = ?, x509_svid_ttl = ?, jwt_svid_ttl = ?,
       dns_names = ?, admin = ?, federates_with = ?, labels = ?, hint = ?, expires_at = ? WHERE id = ?`,
    ...entryValues(updated),
    id,
  );
  if (JSON.stringify(updated.selectors) !== JSON.stringify(current.selectors)) {
    yield sql('DELETE FROM entry_selectors WHERE entry_id = ?', id);
    yield insertSelectors(id, updated.selectors);
  }
  yield change('entry', id, now);
  return updated;
}

export function* deleteEntryOp(id: string, now: number): Op<RegistrationEntry> {
  // entry_selectors rows go with it (ON DELETE CASCADE).
  const { rows } = yield sql(`DELETE FROM entries WHERE id = ? RETURNING ${ENTRY_COLUMNS}`, id);
  if (!rows[0]) throw new StoreError('ERR_STORE_NOT_FOUND', `entry "${id}" not found`);
  yield change('entry', id, now);
  return toEntry(rows[0]);
}
