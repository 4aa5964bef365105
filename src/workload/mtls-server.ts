/**
 * `createMtlsServer({ source, authorize, http2? }, handler)`: a Node HTTPS
 * (or HTTP/2) server, not yet listening, whose every connection is verified
 * (SPIFFE chain against the bundle of the peer's trust domain, then the
 * authorizer) right after the TLS handshake, before a single request byte is
 * read. A connection that fails is destroyed at that stage: the client sees
 * the connection closed (`ECONNRESET` / "other side closed"), never an HTTP
 * answer, and the server emits `'spiffePeerRejected'` with the error. Requests
 * carry the verified peer as `req.spiffeId`; a request that somehow has none
 * is answered 403 (defence in depth).
 *
 * Credentials rotate without a restart: when the source emits `update`, the
 * server calls `setSecureContext` with the new SVID; connections in flight
 * keep theirs, new handshakes present the new one.
 */
import { createServer as createHttpsServer, type Server as HttpsServer, type ServerOptions as HttpsServerOptions } from 'node:https';
import { createSecureServer, type Http2SecureServer, type Http2ServerRequest, type Http2ServerResponse, type SecureServerOptions } from 'node:http2';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Server as TlsServer, TLSSocket } from 'node:tls';
import type { Authorizer } from '../spiffe/authorizers.js';
import type { SpiffeId } from '../spiffe/spiffe-id.js';
import type { X509Svid } from '../spiffe/x509/x509-svid.js';
import { checkMtlsArguments, serverContextOptions, tlsServerOptions, type MtlsSource, type MtlsTlsOptions } from './tls-options.js';
import { onSourceUpdate } from './updates.js';
import { verifyTlsPeer } from './verify-peer.js';

declare module 'node:http' {
  interface IncomingMessage {
    /** The verified SPIFFE ID of the mTLS peer (set by `createMtlsServer`). */
    spiffeId?: SpiffeId;
  }
}
declare module 'node:http2' {
  interface Http2ServerRequest {
    /** The verified SPIFFE ID of the mTLS peer (set by `createMtlsServer`). */
    spiffeId?: SpiffeId;
  }
}

const kPeerId = Symbol.for('meshward.peerSpiffeId');

/** The verified SPIFFE ID of a socket that passed `protectTlsServer`, if any. */
export function peerSpiffeIdOf(socket: unknown): SpiffeId | undefined {
  if (typeof socket !== 'object' || socket === null) return undefined;
  return (socket as Record<symbol, SpiffeId | undefined>)[kPeerId];
}

export interface ProtectTlsServerOptions extends MtlsTlsOptions {
  readonly source: MtlsSource;
  readonly authorize: Authorizer;
}

/**
 * Verifies every connection of a TLS-based server (tls, https, http2) and
 * rotates its credentials when the source updates. Returns the server.
 */
export function protectTlsServer<S extends TlsServer>(server: S, options: ProtectTlsServerOptions): S {
  const { source, authorize } = options;
  checkMtlsArguments(source, authorize);
  server.prependListener('secureConnection', (socket: TLSSocket) => {
    try {
      source.getX509Svid(); // no identity of our own any more (closed, PermissionDenied, expired): serve nobody
      const id = verifyTlsPeer(socket, source, authorize);
      Object.defineProperty(socket, kPeerId, { value: id, enumerable: false, configurable: false, writable: false });
    } catch (err) {
      socket.destroy();
      if (server.listenerCount('spiffePeerRejected') > 0) server.emit('spiffePeerRejected', err, socket);
    }
  });
  let current: X509Svid = source.getX509Svid();
  const unsubscribe = onSourceUpdate(source, () => {
    let next: X509Svid;
    try {
      next = source.getX509Svid();
    } catch {
      return; // no identity right now (e.g. PermissionDenied): keep serving with the last one until it expires
    }
    if (next === current) return;
    server.setSecureContext(serverContextOptions(next, options));
    current = next;
  });
  server.once('close', unsubscribe);
  return server;
}

export interface MtlsServerOptions extends MtlsTlsOptions {
  /** Our SVID and the trusted bundles: an `X509Source` (live, rotating) or static values. */
  readonly source: MtlsSource;
  /** Which client identities may connect. There is no default. */
  readonly authorize: Authorizer;
  /** Serve HTTP/2 (`http2.createSecureServer`, h2 only) instead of HTTPS/1.1. */
  readonly http2?: boolean;
  /** Non-TLS server options (timeouts, header limits); TLS options here are overridden. */
  readonly serverOptions?: HttpsServerOptions | SecureServerOptions;
}

export type MtlsRequestHandler = (req: IncomingMessage & { spiffeId: SpiffeId }, res: ServerResponse) => void;
export type MtlsHttp2RequestHandler = (req: Http2ServerRequest & { spiffeId: SpiffeId }, res: Http2ServerResponse) => void;

/** Default limits for our listeners (DESIGN.md: every listener has limits). */
const LIMITS = { headersTimeout: 20_000, requestTimeout: 60_000, keepAliveTimeout: 5_000, maxHeaderSize: 16 * 1024 };

export function createMtlsServer(options: MtlsServerOptions & { http2: true }, handler?: MtlsHttp2RequestHandler): Http2SecureServer;
export function createMtlsServer(options: MtlsServerOptions & { http2?: false }, handler?: MtlsRequestHandler | ((req: IncomingMessage, res: ServerResponse) => void)): HttpsServer;
export function createMtlsServer(options: MtlsServerOptions, handler?: (req: never, res: never) => void): HttpsServer | Http2SecureServer {
  if (typeof options !== 'object' || options === null) throw new TypeError('createMtlsServer needs options { source, authorize }');
  const { source, authorize } = options;
  checkMtlsArguments(source, authorize);
  const tls = tlsServerOptions(source, authorize, options);
  const wrap = handler === undefined ? undefined : withPeerId(handler as (req: unknown, res: unknown) => void);
  if (options.http2 === true) {
    const server = createSecureServer({ ...(options.serverOptions as SecureServerOptions), ...tls, allowHTTP1: false, ALPNProtocols: ['h2'] }, wrap);
    return protectTlsServer(server, options);
  }
  const server = createHttpsServer({ ...LIMITS, ...(options.serverOptions as HttpsServerOptions), ...tls, ALPNProtocols: ['http/1.1'] }, wrap);
  return protectTlsServer(server, options);
}

function withPeerId(handler: (req: unknown, res: unknown) => void) {
  return (req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse) => {
    const socket = 'stream' in req && req.stream ? req.stream.session?.socket : req.socket;
    const id = peerSpiffeIdOf(socket);
    if (id === undefined) {
      res.statusCode = 403;
      res.end();
      return;
    }
    Object.defineProperty(req, 'spiffeId', { value: id, enumerable: true, configurable: false, writable: false });
    handler(req, res);
  };
}
