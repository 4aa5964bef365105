/**
 * A small gRPC server on `node:http2`, serving unary and server-streaming
 * methods whose request is one message (all the Workload API needs). It is
 * ours rather than @grpc/grpc-js's Server because handlers need the
 * connection's kernel peer credentials, which grpc-js does not expose: the
 * `'connection'` event hands us the raw `net.Socket`, whose credentials are
 * read at once and kept on it under a symbol (the session's `socket` proxy
 * forwards property reads to the same socket).
 *
 * Protocol (grpc/doc/PROTOCOL-HTTP2.md): POST, `content-type:
 * application/grpc[+proto]`, length-prefixed messages, response headers,
 * data, then trailers `grpc-status`/`grpc-message`; errors before any
 * message are "trailers-only". Compressed messages are refused
 * (`grpc-accept-encoding: identity`). Every failure ends one call; nothing a
 * client sends can throw out of a handler.
 */
import http2, { constants, type Http2Server, type Http2Session, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import { CallEnd } from './call-end.js';
import { FrameReader, frameMessage } from './grpc-frames.js';
import { GrpcCallError, GrpcStatus, encodeGrpcMessage, type GrpcStatusCode } from './grpc-status.js';

/** What the server knows of a connection, computed once when it is accepted. */
export type ConnectionInfo = unknown;

export interface CallContext<P = ConnectionInfo> {
  readonly method: string;
  readonly headers: IncomingHttpHeaders;
  readonly rawHeaders: readonly string[];
  /** From `onConnection`, or the error it threw. */
  readonly connection: { ok: true; value: P } | { ok: false; error: unknown };
  /** Ends when the call is done or the caller goes away (cancel, RST_STREAM, closed connection). */
  readonly end: CallEnd;
}

export type UnaryHandler<P> = (request: Buffer, call: CallContext<P>) => Promise<Uint8Array>;
/** Resolves (OK) or throws GrpcCallError when the stream should end; `send` writes one message. */
export type StreamHandler<P> = (request: Buffer, call: CallContext<P>, send: (message: Uint8Array) => void) => Promise<void>;

export type MethodTable<P> = Record<string, { kind: 'unary'; handler: UnaryHandler<P> } | { kind: 'server-stream'; handler: StreamHandler<P> }>;

export interface GrpcServerOptions<P> {
  /** Keyed by full path: `/SpiffeWorkloadAPI/FetchX509SVID`. */
  readonly methods: MethodTable<P>;
  /** Runs on every accepted connection, before any byte is read. */
  readonly onConnection: (socket: Socket) => P;
  /** Runs on every call before its body is read or the method looked up (the security header check). */
  readonly precheck?: (call: CallContext<P>) => void;
  readonly maxRequestBytes?: number;
  readonly maxConnections?: number;
  readonly maxConcurrentStreams?: number;
  /** Bytes queued on one stream before it is ended (a client that does not read). */
  readonly maxQueuedBytes?: number;
  readonly onError?: (err: unknown, where: string) => void;
}

const kConnection = Symbol('meshward.grpc.connection');
const ignore = (): void => undefined;
const kCallEnd = Symbol('meshward.grpc.callEnd');
/** The one 'close'/'aborted' listener of every stream: ends the stream's call (no closure per call). */
function endStreamCall(this: ServerHttp2Stream): void {
  (this as unknown as Record<symbol, CallEnd>)[kCallEnd]!.end();
}
const GRPC_CONTENT_TYPE = /^application\/grpc(\+proto)?(;.*)?$/;

export function createGrpcServer<P>(options: GrpcServerOptions<P>): Http2Server {
  const maxRequestBytes = options.maxRequestBytes ?? 64 * 1024;
  const maxQueued = options.maxQueuedBytes ?? 4 * 1024 * 1024;
  const onError = options.onError ?? (() => undefined);
  const server = http2.createServer({
    maxSessionMemory: 10,
    maxHeaderListPairs: 64,
    settings: { maxConcurrentStreams: options.maxConcurrentStreams ?? 100, maxHeaderListSize: 16 * 1024, enablePush: false },
  });
  server.maxConnections = options.maxConnections ?? 4096;

  server.on('connection', (socket: Socket) => {
    let info: CallContext<P>['connection'];
    try {
      info = { ok: true, value: options.onConnection(socket) };
    } catch (error) {
      info = { ok: false, error };
    }
    (socket as unknown as Record<symbol, unknown>)[kConnection] = info;
  });
  server.on('sessionError', (err) => onError(err, 'session'));
  server.on('session', (session: Http2Session) => session.on('error', (err) => onError(err, 'session')));

  server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, _flags: number, rawHeaders: unknown) => {
    stream.on('error', ignore); // a reset stream: nothing to do
    handleStream(stream, headers, rawHeaders as unknown as string[], options, maxRequestBytes, maxQueued).catch((err) => {
      onError(err, 'call');
      endWithStatus(stream, GrpcStatus.INTERNAL, 'internal error');
    });
  });
  return server;
}

async function handleStream<P>(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, rawHeaders: string[], options: GrpcServerOptions<P>, maxRequestBytes: number, maxQueued: number): Promise<void> {
  if (headers[':method'] !== 'POST') {
    respondPlain(stream, 405);
    return;
  }
  if (!GRPC_CONTENT_TYPE.test(String(headers['content-type'] ?? ''))) {
    respondPlain(stream, 415);
    return;
  }
  const method = String(headers[':path'] ?? '');
  const connection = connectionOf<P>(stream) ?? { ok: false as const, error: new Error('connection not registered') };
  const end = new CallEnd();
  // Never removed: the stream goes away with the call, and end() acts once.
  (stream as unknown as Record<symbol, CallEnd>)[kCallEnd] = end;
  stream.on('close', endStreamCall);
  stream.on('aborted', endStreamCall);
  const call: CallContext<P> = { method, headers, rawHeaders, connection, end };
  try {
    options.precheck?.(call);
    const entry = Object.hasOwn(options.methods, method) ? options.methods[method] : undefined;
    if (entry === undefined) throw new GrpcCallError(GrpcStatus.UNIMPLEMENTED, `unknown method ${method.slice(0, 200)}`);
    const request = await readRequest(stream, maxRequestBytes, end);
    if (end.ended) return;
    if (entry.kind === 'unary') {
      const answer = await entry.handler(request, call);
      if (end.ended) return;
      sendHeaders(stream);
      stream.write(frameMessage(answer));
      endWithTrailers(stream, GrpcStatus.OK, '');
    } else {
      let started = false;
      await entry.handler(request, call, (message) => {
        if (end.ended || stream.destroyed) return;
        if (!started) {
          sendHeaders(stream);
          started = true;
        }
        if (stream.writableLength > maxQueued) {
          end.end();
          endWithTrailers(stream, GrpcStatus.RESOURCE_EXHAUSTED, 'client is not reading its stream');
          return;
        }
        stream.write(framedMessage(message));
      });
      if (end.ended) return;
      if (started) endWithTrailers(stream, GrpcStatus.OK, '');
      else endWithStatus(stream, GrpcStatus.OK, '');
    }
  } catch (err) {
    if (end.ended && !(err instanceof GrpcCallError)) return;
    if (err instanceof GrpcCallError) {
      if (stream.headersSent) endWithTrailers(stream, err.status, err.message);
      else endWithStatus(stream, err.status, err.message);
      return;
    }
    throw err;
  } finally {
    end.end();
  }
}

/**
 * What onConnection gave for the stream's connection. Read through the
 * session's socket proxy once (the session is made before our 'connection'
 * listener runs, so not earlier), then kept on the session itself.
 */
function connectionOf<P>(stream: ServerHttp2Stream): CallContext<P>['connection'] | undefined {
  const session = stream.session as unknown as Record<symbol, CallContext<P>['connection'] | undefined> | undefined;
  if (session === undefined) return undefined;
  return (session[kConnection] ??= (stream.session!.socket as unknown as Record<symbol, CallContext<P>['connection'] | undefined>)[kConnection]);
}

/** The one request message. */
function readRequest(stream: ServerHttp2Stream, maxBytes: number, end: CallEnd): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const reader = new FrameReader(maxBytes);
    const done = (err: unknown, value?: Buffer): void => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      end.offEnd(onAbort);
      if (err) reject(err);
      else resolve(value!);
    };
    const onData = (chunk: Buffer): void => {
      try {
        reader.push(chunk);
      } catch (err) {
        stream.pause();
        done(err);
      }
    };
    const onEnd = (): void => {
      if (reader.truncated) return done(new GrpcCallError(GrpcStatus.INTERNAL, 'truncated request message'));
      if (reader.messages.length !== 1) return done(new GrpcCallError(GrpcStatus.INVALID_ARGUMENT, `expected exactly one request message, got ${reader.messages.length}`));
      done(null, reader.messages[0]);
    };
    const onAbort = (): void => done(null, Buffer.alloc(0));
    stream.on('data', onData);
    stream.on('end', onEnd);
    end.onEnd(onAbort);
  });
}

/**
 * Built once: node:http2 copies headers and trailers objects, so they can be shared by every call.
 * No `date` header (node adds one unless told not to): gRPC has no use for it.
 */
const RESPONSE_HEADERS = Object.freeze({ ':status': 200, 'content-type': 'application/grpc+proto', 'grpc-accept-encoding': 'identity' });
const RESPONSE_OPTIONS = Object.freeze({ waitForTrailers: true, sendDate: false });
const TRAILERS_ONLY_OPTIONS = Object.freeze({ endStream: true, sendDate: false });
const OK_TRAILERS = Object.freeze({ 'grpc-status': String(GrpcStatus.OK) });

/** Framed bytes of messages sent again and again (cached answers), by message identity. */
const framed = new WeakMap<Uint8Array, Buffer>();
function framedMessage(message: Uint8Array): Buffer {
  let bytes = framed.get(message);
  if (bytes === undefined) {
    bytes = frameMessage(message);
    framed.set(message, bytes);
  }
  return bytes;
}

function sendHeaders(stream: ServerHttp2Stream): void {
  stream.respond(RESPONSE_HEADERS, RESPONSE_OPTIONS);
}

function endWithTrailers(stream: ServerHttp2Stream, status: GrpcStatusCode, message: string): void {
  if (stream.destroyed || stream.closed) return;
  stream.once('wantTrailers', () => {
    try {
      stream.sendTrailers(statusHeaders(status, message));
    } catch {
      stream.close(constants.NGHTTP2_INTERNAL_ERROR);
    }
  });
  stream.end();
}

/** Trailers-only response (no message was sent). */
function endWithStatus(stream: ServerHttp2Stream, status: GrpcStatusCode, message: string): void {
  if (stream.destroyed || stream.closed) return;
  if (stream.headersSent) return endWithTrailers(stream, status, message);
  try {
    stream.respond({ ':status': 200, 'content-type': 'application/grpc+proto', 'grpc-accept-encoding': 'identity', ...statusHeaders(status, message) }, TRAILERS_ONLY_OPTIONS);
  } catch {
    stream.close(constants.NGHTTP2_INTERNAL_ERROR);
  }
}

function statusHeaders(status: GrpcStatusCode, message: string): Record<string, string> {
  if (status === GrpcStatus.OK && message === '') return OK_TRAILERS;
  return message === '' ? { 'grpc-status': String(status) } : { 'grpc-status': String(status), 'grpc-message': encodeGrpcMessage(message) };
}

function respondPlain(stream: ServerHttp2Stream, status: number): void {
  if (stream.headersSent || stream.destroyed) return;
  stream.respond({ ':status': status }, { endStream: true });
}
