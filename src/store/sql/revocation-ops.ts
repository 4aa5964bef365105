import type { Revocation } from '../types.js';
import { REVOCATION_COLUMNS, toRevocation } from './rows.js';
import { change, sql, sqlOrConflict, type Op } from './statement.js';

export function* addRevocationOp(r: Revocation): Op<void> {
  yield sqlOrConflict(
    () => `revocation "${r.id}" already exists`,
    'INSERT INTO revocations (id, spiffe_id, serial_number, reason, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?)',
    r.id,
    r.spiffeId,
    r.serialNumber,
    r.reason,
    r.expiresAt,
    r.createdAt,
  );
  yield change('revocation', r.id, r.createdAt);
}

export function* listRevocationsOp(now: number): Op<Revocation[]> {
  const { rows } = yield sql(`SELECT ${REVOCATION_COLUMNS} FROM revocations WHERE expires_at > ? ORDER BY created_at, id`, now);
  return rows.map(toRevocation);
}

/** One change-log row per pruned revocation, so followers can drop exactly those. */
export function* pruneRevocationsOp(now: number): Op<number> {
  const { rows } = yield sql('DELETE FROM revocations WHERE expires_at <= ? RETURNING id', now);
  for (const row of rows) yield change('revocation', String(row.id), now);
  return rows.length;
}
