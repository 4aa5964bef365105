import { StoreError } from '../store-error.js';
import type { StoredPolicy } from '../types.js';
import { POLICY_COLUMNS, toPolicy } from './rows.js';
import { change, sql, type Op } from './statement.js';

export type PolicyInput = Omit<StoredPolicy, 'revision' | 'updatedAt'>;

const policyKey = (namespace: string, name: string): string => `${namespace}/${name}`;

/** Upserts each; an existing policy's revision goes up by one in the same statement. */
export function* putPoliciesOp(policies: readonly PolicyInput[], now: number): Op<StoredPolicy[]> {
  const stored: StoredPolicy[] = [];
  for (const p of policies) {
    const { rows } = yield sql(
      `INSERT INTO policies (namespace, name, document, revision, updated_at) VALUES (?, ?, ?, 1, ?)
       ON CONFLICT (namespace, name) DO UPDATE SET document = excluded.document, revision = policies.revision + 1,
         updated_at = excluded.updated_at
       RETURNING ${POLICY_COLUMNS}`,
      p.namespace,
      p.name,
      p.document,
      now,
    );
    stored.push(toPolicy(rows[0]!));
    yield change('policy', policyKey(p.namespace, p.name), now);
  }
  return stored;
}

export function* listPoliciesOp(): Op<StoredPolicy[]> {
  const { rows } = yield sql(`SELECT ${POLICY_COLUMNS} FROM policies ORDER BY namespace, name`);
  return rows.map(toPolicy);
}

export function* deletePolicyOp(namespace: string, name: string, now: number): Op<void> {
  const { count } = yield sql('DELETE FROM policies WHERE namespace = ? AND name = ?', namespace, name);
  if (count === 0) throw new StoreError('ERR_STORE_NOT_FOUND', `policy "${policyKey(namespace, name)}" not found`);
  yield change('policy', policyKey(namespace, name), now);
}
