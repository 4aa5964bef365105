import { MeshwardError } from '../errors.js';

/** The server answered with an error (docs/server-api.md "Errors"), or could not be reached. */
export class AdminApiError extends MeshwardError {
  constructor(
    readonly status: number,
    code: string,
    message: string,
    readonly field?: string,
  ) {
    super(code, message);
  }
}
