import type { AuditRecord, Change, NewAuditRecord } from '../types.js';
import { AUDIT_COLUMNS, toAudit, toChange } from './rows.js';
import { sql, type Op } from './statement.js';

const DEFAULT_LIMIT = 1000;

// The audit trail is append-only and is not itself followed, so it writes no change-log row.
export function* appendAuditOp(record: NewAuditRecord): Op<void> {
  yield sql(
    'INSERT INTO audit (time, actor, action, target, outcome, detail) VALUES (?, ?, ?, ?, ?, ?)',
    record.time,
    record.actor,
    record.action,
    record.target,
    record.outcome,
    JSON.stringify(record.detail ?? {}),
  );
}

export function* listAuditOp(options: { sinceId?: number; limit?: number } = {}): Op<AuditRecord[]> {
  const { rows } = yield sql(
    `SELECT ${AUDIT_COLUMNS} FROM audit WHERE id > ? ORDER BY id LIMIT ?`,
    options.sinceId ?? 0,
    options.limit ?? DEFAULT_LIMIT,
  );
  return rows.map(toAudit);
}

export function* changesSinceOp(sinceId: number, limit = DEFAULT_LIMIT): Op<Change[]> {
  const { rows } = yield sql('SELECT id, kind, key, time FROM changes WHERE id > ? ORDER BY id LIMIT ?', sinceId, limit);
  return rows.map(toChange);
}

export function* latestChangeIdOp(): Op<number> {
  const { rows } = yield sql('SELECT COALESCE(MAX(id), 0) AS id FROM changes');
  return Number(rows[0]?.id ?? 0);
}
