/**
 * Body size limits. `readBody` buffers a request body up to `limit` bytes and
 * rejects with ERR_GUARD_BODY_TOO_LARGE (413) as soon as a declared
 * Content-Length or the bytes received pass it (the stream is then paused
 * and released; the proxy answers and closes). `ByteLimit` is the streaming
 * form for bodies passed through to the app: a Transform that counts bytes
 * and errors past the limit.
 */
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { GuardError } from './guard-error.js';

function tooLarge(limit: number): GuardError {
  return new GuardError('ERR_GUARD_BODY_TOO_LARGE', `body larger than ${limit} bytes`);
}

/** Checks a Content-Length header against the limit before reading anything. */
export function checkContentLength(contentLength: string | undefined, limit: number): GuardError | undefined {
  if (contentLength === undefined) return undefined;
  const n = Number(contentLength);
  if (!Number.isSafeInteger(n) || n < 0) return new GuardError('ERR_GUARD_BAD_REQUEST', 'invalid content-length');
  return n > limit ? tooLarge(limit) : undefined;
}

export function readBody(stream: Readable, limit: number, contentLength?: string): Promise<Buffer> {
  const early = checkContentLength(contentLength, limit);
  if (early !== undefined) return Promise.reject(early);
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = (): void => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      stream.off('aborted', onAborted);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        stream.pause();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
    };
    const onError = (error: unknown): void => {
      cleanup();
      reject(error);
    };
    const onAborted = (): void => onError(new GuardError('ERR_GUARD_BAD_REQUEST', 'request aborted'));
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', onError);
    stream.on('aborted', onAborted);
  });
}

export class ByteLimit extends Transform {
  readonly limit: number;
  bytes = 0;

  constructor(limit: number) {
    super();
    if (!Number.isSafeInteger(limit) || limit < 0) throw new RangeError('limit must be a non-negative integer');
    this.limit = limit;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.limit) callback(tooLarge(this.limit));
    else callback(null, chunk);
  }
}
