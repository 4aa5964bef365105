import { MeshwardError } from '../errors.js';

/**
 * A command was called wrongly (bad flag, unreadable or malformed file). The
 * CLI prints the message and exits 2, having written nothing.
 */
export class UsageError extends MeshwardError {
  constructor(message: string) {
    super('ERR_CLI_USAGE', message);
  }
}

/**
 * A command ran but its answer is "no" (a verification failed). Exit code 1.
 */
export class CheckFailedError extends MeshwardError {
  constructor(message: string) {
    super('ERR_CLI_CHECK_FAILED', message);
  }
}
