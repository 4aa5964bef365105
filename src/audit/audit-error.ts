import { MeshwardError } from '../errors.js';

export type AuditErrorCode =
  /** The sink could not write (disk full, database down, …); the records are counted as failed. */
  | 'ERR_AUDIT_WRITE_FAILED'
  /** The sink is failing right now; a must-audit route denies instead of serving unaudited. */
  | 'ERR_AUDIT_SINK_FAILING'
  /** The sink cannot be opened (bad path or URL, unreachable database, unreadable chain head). */
  | 'ERR_AUDIT_SINK_UNAVAILABLE'
  /** An audit file or table cannot be read for verification. */
  | 'ERR_AUDIT_UNREADABLE'
  /** The auditor was closed; nothing more is accepted. */
  | 'ERR_AUDIT_CLOSED'
  /** A record could not be turned into a line (it is counted as failed, never silently lost). */
  | 'ERR_AUDIT_SERIALIZE'
  /** Bad options (programmer mistake). */
  | 'ERR_AUDIT_INVALID';

/** An audit operation failed; `code` says how. Messages never carry tokens, keys or passwords. */
export class AuditError extends MeshwardError {
  declare readonly code: AuditErrorCode;

  constructor(code: AuditErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, `audit: ${message}`, options);
  }
}
