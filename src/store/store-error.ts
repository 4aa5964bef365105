import { MeshwardError } from '../errors.js';

export type StoreErrorCode =
  | 'ERR_STORE_ALREADY_EXISTS'
  | 'ERR_STORE_NOT_FOUND'
  | 'ERR_STORE_UNAVAILABLE'
  | 'ERR_STORE_MIGRATION'
  | 'ERR_STORE_INVALID'
  /** upsertAgent on a banned agent: a ban is sticky until the agent is evicted. */
  | 'ERR_STORE_AGENT_BANNED';

/** A datastore operation failed; `code` says how. Never carries connection secrets. */
export class StoreError extends MeshwardError {
  declare readonly code: StoreErrorCode;

  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, `store: ${message}`, options);
  }
}
