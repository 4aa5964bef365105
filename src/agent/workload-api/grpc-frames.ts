/**
 * gRPC length-prefixed messages (grpc/doc/PROTOCOL-HTTP2.md): a 1-byte
 * compressed flag, a 4-byte big-endian length, then the message. The reader
 * refuses a message over `maxMessageBytes` before buffering it, and refuses
 * compressed messages (we announce `grpc-accept-encoding: identity` only).
 */
import { GrpcCallError, GrpcStatus } from './grpc-status.js';

const HEADER = 5;
/** Shared by every reader until bytes come (a zero-length buffer holds nothing to change). */
const EMPTY = Buffer.alloc(0);

export function frameMessage(message: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(HEADER + message.length);
  out[0] = 0;
  out.writeUInt32BE(message.length, 1);
  out.set(message, HEADER);
  return out;
}

export class FrameReader {
  readonly #max: number;
  #pending: Buffer = EMPTY;
  readonly messages: Buffer[] = [];

  constructor(maxMessageBytes: number) {
    this.#max = maxMessageBytes;
  }

  /** Adds bytes; complete messages are appended to `messages`. Throws GrpcCallError on a bad frame. */
  push(chunk: Buffer): void {
    this.#pending = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    while (this.#pending.length >= HEADER) {
      const flag = this.#pending[0]!;
      const length = this.#pending.readUInt32BE(1);
      if (flag === 1) throw new GrpcCallError(GrpcStatus.UNIMPLEMENTED, 'compressed messages are not supported (grpc-accept-encoding: identity)');
      if (flag !== 0) throw new GrpcCallError(GrpcStatus.INTERNAL, 'malformed gRPC frame (bad flag byte)');
      if (length > this.#max) throw new GrpcCallError(GrpcStatus.RESOURCE_EXHAUSTED, `request message larger than ${this.#max} bytes`);
      if (this.#pending.length < HEADER + length) {
        if (this.messages.length > 8) throw new GrpcCallError(GrpcStatus.INVALID_ARGUMENT, 'too many request messages');
        return;
      }
      this.messages.push(Buffer.from(this.#pending.subarray(HEADER, HEADER + length)));
      this.#pending = this.#pending.subarray(HEADER + length);
      if (this.messages.length > 8) throw new GrpcCallError(GrpcStatus.INVALID_ARGUMENT, 'too many request messages');
    }
  }

  /** True when a partial frame is left over at the end of the request. */
  get truncated(): boolean {
    return this.#pending.length > 0;
  }
}
