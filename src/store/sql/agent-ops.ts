import { StoreError } from '../store-error.js';
import type { AttestedAgent } from '../types.js';
import { AGENT_COLUMNS, toAgent } from './rows.js';
import { canonicalSelectors } from './selectors.js';
import { change, sql, type Op } from './statement.js';

export type AgentInput = Omit<AttestedAgent, 'banned' | 'createdAt' | 'updatedAt'>;

/** One upsert whose update half is guarded by `banned = FALSE`: a ban can never be overwritten by a racing renewal. */
export function* upsertAgentOp(agent: AgentInput, now: number): Op<AttestedAgent> {
  const { rows } = yield sql(
    `INSERT INTO agents (spiffe_id, attestation_type, selectors, serial_number, expires_at, banned, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, FALSE, ?, ?)
     ON CONFLICT (spiffe_id) DO UPDATE SET attestation_type = excluded.attestation_type, selectors = excluded.selectors,
       serial_number = excluded.serial_number, expires_at = excluded.expires_at, updated_at = excluded.updated_at
     WHERE agents.banned = FALSE
     RETURNING ${AGENT_COLUMNS}`,
    agent.spiffeId,
    agent.attestationType,
    JSON.stringify(canonicalSelectors(agent.selectors)),
    agent.serialNumber,
    agent.expiresAt,
    now,
    now,
  );
  if (!rows[0]) throw new StoreError('ERR_STORE_AGENT_BANNED', `agent "${agent.spiffeId}" is banned`);
  yield change('agent', agent.spiffeId, now);
  return toAgent(rows[0]);
}

export function* getAgentOp(spiffeId: string): Op<AttestedAgent | null> {
  const { rows } = yield sql(`SELECT ${AGENT_COLUMNS} FROM agents WHERE spiffe_id = ?`, spiffeId);
  return rows[0] ? toAgent(rows[0]) : null;
}

export function* listAgentsOp(): Op<AttestedAgent[]> {
  const { rows } = yield sql(`SELECT ${AGENT_COLUMNS} FROM agents ORDER BY spiffe_id`);
  return rows.map(toAgent);
}

export function* banAgentOp(spiffeId: string, now: number): Op<AttestedAgent> {
  const { rows } = yield sql(`UPDATE agents SET banned = TRUE, updated_at = ? WHERE spiffe_id = ? RETURNING ${AGENT_COLUMNS}`, now, spiffeId);
  if (!rows[0]) throw new StoreError('ERR_STORE_NOT_FOUND', `agent "${spiffeId}" not found`);
  yield change('agent', spiffeId, now);
  return toAgent(rows[0]);
}

export function* evictAgentOp(spiffeId: string, now: number): Op<AttestedAgent> {
  const { rows } = yield sql(`DELETE FROM agents WHERE spiffe_id = ? RETURNING ${AGENT_COLUMNS}`, spiffeId);
  if (!rows[0]) throw new StoreError('ERR_STORE_NOT_FOUND', `agent "${spiffeId}" not found`);
  yield change('agent', spiffeId, now);
  return toAgent(rows[0]);
}
