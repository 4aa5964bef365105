import type { PublishedAuthority } from '../types.js';
import { AUTHORITY_COLUMNS, toAuthority } from './rows.js';
import { change, sql, type Op } from './statement.js';

export type AuthorityInput = Omit<PublishedAuthority, 'replicaId' | 'updatedAt'>;

/**
 * Replaces the replica's whole set: upsert each given authority, then delete
 * the replica's others. (Delete-then-insert would make two overlapping
 * publishes of one replica collide on the primary key in PostgreSQL.)
 */
export function* publishAuthoritiesOp(replicaId: string, authorities: readonly AuthorityInput[], now: number): Op<void> {
  for (const a of authorities) {
    yield sql(
      `INSERT INTO authorities (replica_id, kind, authority_id, public_data, not_after, updated_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (replica_id, kind, authority_id) DO UPDATE SET public_data = excluded.public_data,
         not_after = excluded.not_after, updated_at = excluded.updated_at`,
      replicaId,
      a.kind,
      a.authorityId,
      a.publicData,
      a.notAfter,
      now,
    );
  }
  const keep = authorities.map(() => '(kind = ? AND authority_id = ?)').join(' OR ');
  yield sql(
    `DELETE FROM authorities WHERE replica_id = ?${keep ? ` AND NOT (${keep})` : ''}`,
    replicaId,
    ...authorities.flatMap((a) => [a.kind, a.authorityId]),
  );
  yield change('authority', replicaId, now);
}

export function* listAuthoritiesOp(now: number): Op<PublishedAuthority[]> {
  const { rows } = yield sql(
    `SELECT ${AUTHORITY_COLUMNS} FROM authorities WHERE not_after > ? ORDER BY replica_id, kind, not_after, authority_id`,
    now,
  );
  return rows.map(toAuthority);
}
