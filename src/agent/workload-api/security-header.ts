/**
 * The Workload Endpoint's SSRF guard: every call must carry the metadata
 * `workload.spiffe.io: true` — exactly one value, exactly "true" (SPIRE's
 * rule). Anything else is InvalidArgument, before any other work.
 */
import { GrpcCallError, GrpcStatus } from './grpc-status.js';

export const SECURITY_HEADER = 'workload.spiffe.io';

export function checkSecurityHeader(rawHeaders: readonly string[]): void {
  let count = 0;
  let value: string | undefined;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    // HTTP/2 header names arrive lower-case; toLowerCase() only for the rare other spelling of the same length.
    if (name.length === SECURITY_HEADER.length && (name === SECURITY_HEADER || name.toLowerCase() === SECURITY_HEADER)) {
      count++;
      value = rawHeaders[i + 1];
    }
  }
  if (count !== 1 || value !== 'true') throw new GrpcCallError(GrpcStatus.INVALID_ARGUMENT, 'security header missing from request');
}
