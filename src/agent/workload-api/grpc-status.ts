/** gRPC status codes (grpc/doc/statuscodes.md) and the error a handler throws to end a call with one. */
export const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  INTERNAL: 13,
  UNIMPLEMENTED: 12,
  UNAVAILABLE: 14,
} as const;

export type GrpcStatusCode = (typeof GrpcStatus)[keyof typeof GrpcStatus];

/** Ends a call with `status` and `message` (sent to the caller: keep secrets out). */
export class GrpcCallError extends Error {
  readonly status: GrpcStatusCode;
  constructor(status: GrpcStatusCode, message: string) {
    super(message);
    this.name = 'GrpcCallError';
    this.status = status;
  }
}

/** `grpc-message` is percent-encoded: bytes outside printable ASCII, and '%'. */
export function encodeGrpcMessage(message: string): string {
  let out = '';
  for (const byte of Buffer.from(message, 'utf8')) {
    out += byte >= 0x20 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}
