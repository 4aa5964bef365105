import { StoreError } from '../store-error.js';
import type { StoredBundle } from '../types.js';
import { BUNDLE_COLUMNS, toBundle } from './rows.js';
import { change, sql, type Op } from './statement.js';

export function* putBundleOp(bundle: Omit<StoredBundle, 'updatedAt'>, now: number): Op<StoredBundle> {
  const { rows } = yield sql(
    `INSERT INTO bundles (trust_domain, document, sequence, updated_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (trust_domain) DO UPDATE SET document = excluded.document, sequence = excluded.sequence, updated_at = excluded.updated_at
     RETURNING ${BUNDLE_COLUMNS}`,
    bundle.trustDomain,
    bundle.document,
    bundle.sequence,
    now,
  );
  yield change('bundle', bundle.trustDomain, now);
  return toBundle(rows[0]!);
}

export function* getBundleOp(trustDomain: string): Op<StoredBundle | null> {
  const { rows } = yield sql(`SELECT ${BUNDLE_COLUMNS} FROM bundles WHERE trust_domain = ?`, trustDomain);
  return rows[0] ? toBundle(rows[0]) : null;
}

export function* listBundlesOp(): Op<StoredBundle[]> {
  const { rows } = yield sql(`SELECT ${BUNDLE_COLUMNS} FROM bundles ORDER BY trust_domain`);
  return rows.map(toBundle);
}

export function* deleteBundleOp(trustDomain: string, now: number): Op<void> {
  const { count } = yield sql('DELETE FROM bundles WHERE trust_domain = ?', trustDomain);
  if (count === 0) throw new StoreError('ERR_STORE_NOT_FOUND', `bundle for trust domain "${trustDomain}" not found`);
  yield change('bundle', trustDomain, now);
}
