import { AuditError } from './audit-error.js';

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/** A table name for SQL text: plain lowercase identifiers only (they cannot be bound as parameters). */
export function checkTableName(name: string): string {
  if (!IDENTIFIER.test(name)) throw new AuditError('ERR_AUDIT_INVALID', `table name "${name}" must match ${IDENTIFIER.source}`);
  return name;
}
