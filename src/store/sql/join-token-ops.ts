import type { JoinToken } from '../types.js';
import { JOIN_TOKEN_COLUMNS, toJoinToken } from './rows.js';
import { sql, sqlOrConflict, type Op } from './statement.js';

// Join tokens are not followed by caches or agents, so they write no change-log rows.

export function* createJoinTokenOp(token: JoinToken): Op<void> {
  yield sqlOrConflict(
    (hint) => (hint.includes('token_hash') ? 'a join token with this hash already exists' : `join token "${token.id}" already exists`),
    'INSERT INTO join_tokens (id, token_hash, expires_at, alias_spiffe_id, created_at) VALUES (?, ?, ?, ?, ?)',
    token.id,
    token.tokenHash,
    token.expiresAt,
    token.aliasSpiffeId,
    token.createdAt,
  );
}

/** One statement: of two concurrent consumers the row lock (PostgreSQL) or the write lock (SQLite) lets exactly one delete it. */
export function* consumeJoinTokenOp(tokenHash: string, now: number): Op<JoinToken | null> {
  const { rows } = yield sql(
    `DELETE FROM join_tokens WHERE token_hash = ? AND expires_at > ? RETURNING ${JOIN_TOKEN_COLUMNS}`,
    tokenHash,
    now,
  );
  return rows[0] ? toJoinToken(rows[0]) : null;
}

export function* pruneJoinTokensOp(now: number): Op<number> {
  const { count } = yield sql('DELETE FROM join_tokens WHERE expires_at <= ?', now);
  return count;
}
