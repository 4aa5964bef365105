/** Errors of the agent, each with a stable `ERR_AGENT_…` code. Messages never hold keys, tokens or selector values. */
import { MeshwardError } from '../errors.js';

export type AgentErrorCode =
  | 'ERR_AGENT_CONFIG_INVALID'
  | 'ERR_AGENT_PEER_CREDENTIALS'
  | 'ERR_AGENT_ATTESTATION_FAILED'
  | 'ERR_AGENT_PID_REUSED'
  | 'ERR_AGENT_SERVER_UNREACHABLE'
  | 'ERR_AGENT_SERVER_REFUSED'
  | 'ERR_AGENT_NOT_ATTESTED'
  | 'ERR_AGENT_TRUST_BUNDLE'
  | 'ERR_AGENT_DATA_DIR'
  | 'ERR_AGENT_BANNED';

export class AgentError extends MeshwardError {
  declare readonly code: AgentErrorCode;
  /** For server refusals: the HTTP status and the server's error code. */
  readonly status: number | undefined;
  readonly serverCode: string | undefined;

  constructor(code: AgentErrorCode, message: string, options: { cause?: unknown; status?: number; serverCode?: string } = {}) {
    super(code, message, options.cause === undefined ? undefined : { cause: options.cause });
    this.status = options.status;
    this.serverCode = options.serverCode;
  }
}

/** Invalid agent configuration: names the key; `meshward agent run` exits 2. */
export class AgentConfigError extends AgentError {
  readonly key: string;
  constructor(key: string, message: string) {
    super('ERR_AGENT_CONFIG_INVALID', `invalid agent configuration: ${key}: ${message}`);
    this.key = key;
  }
}
