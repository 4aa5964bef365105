/**
 * The Workload Endpoint's SSRF guard: every call must carry the metadata
 * `workload.spiffe.io: true` — exactly one value, exactly "true" (SPIRE's
 * rule). Anything else is InvalidArgument, before any other work.
 */
import { GrpcCallError, GrpcStatus } from './grpc-status.js';

export const SECURITY_HEADER = 'workload.spiffe.io';

export function checkSecurityHeader(rawHeaders: readonly string[]): void {
  const values: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.toLowerCase() === SECURITY_HEADER) values.push(rawHeaders[i + 1]!);
  }
  if (values.length !== 1 || values[0] !== 'true') throw new GrpcCallError(GrpcStatus.INVALID_ARGUMENT, 'security header missing from request');
}
