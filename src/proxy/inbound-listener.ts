/**
 * The inbound listener: terminates mTLS (TLS 1.3, no tickets, no session
 * cache) and verifies every connection's SPIFFE peer against the bundle of
 * the peer's own trust domain before a single request byte is read; then
 * hands HTTP/1.1 connections to the https connection handler and `h2`
 * (ALPN) connections to an HTTP/2 session handler — or, in TCP mode, the
 * socket to the TCP pipe.
 *
 * Authentication failures (no certificate, bad chain, revoked serial, a
 * failed handshake) count towards the source's lockout; a locked-out source
 * is dropped at TCP accept, before any TLS work. PERMISSIVE mode peeks at the
 * first byte: a TLS ClientHello goes to TLS, anything else is plaintext
 * HTTP/1.1 with no principal.
 */
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { createServer as createHttp2Server, type Http2Server, type Http2ServerRequest, type Http2ServerResponse, type ServerHttp2Session } from 'node:http2';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer, type TLSSocket } from 'node:tls';
import { applyServerLimits, guardHttp2Session, http2Limits, serverLimits, type Lockout } from '../guard/index.js';
import type { ProxyMetrics } from '../telemetry/index.js';
import type { Authorizer } from '../spiffe/authorizers.js';
import type { SpiffeId } from '../spiffe/spiffe-id.js';
import type { X509Svid } from '../spiffe/x509/x509-svid.js';
import { serverContextOptions } from '../workload/tls-options.js';
import { onSourceUpdate } from '../workload/updates.js';
import { verifyTlsPeer } from '../workload/verify-peer.js';
import type { InboundConfig } from './config.js';
import type { ProxySource } from './identity.js';

const kPeer = Symbol('meshward.proxy.peer');

/** The verified peer SPIFFE ID of a connection (null: plaintext in PERMISSIVE mode). */
export function peerOfSocket(socket: unknown): string | null {
  return ((socket as Record<symbol, string | undefined> | null)?.[kPeer]) ?? null;
}

export type InboundRequest = IncomingMessage | Http2ServerRequest;
export type InboundResponse = ServerResponse | Http2ServerResponse;

export interface AuthnFailure {
  readonly source: string;
  readonly reason: string;
  readonly detail: string;
  readonly peer: string | null;
  readonly sni: string | null;
}

export interface InboundListenerOptions {
  readonly config: InboundConfig;
  readonly source: ProxySource;
  /** TLS-layer admission: which trust domains may connect at all. */
  readonly authorize: Authorizer;
  readonly lockout: Lockout;
  readonly metrics: ProxyMetrics;
  readonly revoked: () => ReadonlySet<string>;
  readonly onRequest: (req: InboundRequest, res: InboundResponse) => void;
  readonly onTcp?: (socket: TLSSocket | Socket, peer: string | null) => void;
  readonly onAuthnFailure?: (failure: AuthnFailure) => void;
  readonly onLog?: (msg: string, fields?: Record<string, unknown>) => void;
}

export interface InboundListener {
  readonly server: NetServer;
  readonly port: number;
  close(): Promise<void>;
}

function sourceOf(socket: Socket): string {
  return socket.remoteAddress ?? 'unknown';
}

export async function startInboundListener(options: InboundListenerOptions): Promise<InboundListener> {
  const { config, source, lockout, metrics } = options;
  let current: X509Svid = source.getX509Svid();
  const alpn = config.protocol === 'tcp' ? undefined : config.http2 ? ['h2', 'http/1.1'] : ['http/1.1'];
  const tlsOptions = {
    ...serverContextOptions(current),
    requestCert: true,
    // Node's own check would use a merged CA list and no authorizer: ours runs per connection.
    rejectUnauthorized: false,
    ...(alpn ? { ALPNProtocols: alpn } : {}),
  };

  let tlsServer: TlsServer;
  let h1Listener: ((socket: Socket) => void) | undefined;
  let httpsServer: HttpsServer | undefined;
  let h2Server: Http2Server | undefined;
  if (config.protocol === 'http') {
    httpsServer = createHttpsServer({ ...tlsOptions, ...serverLimits, maxHeaderSize: config.maxHeaderBytes }, options.onRequest as (req: IncomingMessage, res: ServerResponse) => void);
    applyServerLimits(httpsServer, { maxRequestsPerSocket: config.maxRequestsPerConnection });
    // Take over the https server's connection handler: verification first, then h1 or h2 by ALPN.
    h1Listener = httpsServer.listeners('secureConnection')[0] as (socket: Socket) => void;
    httpsServer.removeAllListeners('secureConnection');
    if (config.http2) {
      h2Server = createHttp2Server({ ...http2Limits, settings: { ...http2Limits.settings, maxHeaderListSize: config.maxHeaderBytes } }, options.onRequest as (req: Http2ServerRequest, res: Http2ServerResponse) => void);
      h2Server.on('session', (session: ServerHttp2Session) => {
        guardHttp2Session(session, { maxStreamsPerSession: config.maxRequestsPerConnection, onClose: (reason) => options.onLog?.('http2 session closed', { reason }) });
      });
    }
    tlsServer = httpsServer;
  } else {
    tlsServer = createTlsServer(tlsOptions);
  }

  const fail = (socket: Socket, reason: string, detail: string, peer: string | null, sni: string | null) => {
    const src = sourceOf(socket);
    metrics.authnFailure(reason);
    const status = lockout.recordFailure(src, reason);
    if (status.locked) options.onLog?.('source locked out', { source: src, reason });
    options.onAuthnFailure?.({ source: `${src}:${socket.remotePort ?? 0}`, reason, detail, peer, sni });
  };

  tlsServer.on('connection', (socket: Socket) => {
    if (lockout.check(sourceOf(socket)).locked) {
      metrics.lockoutRefusal();
      socket.destroy();
    }
  });
  tlsServer.on('tlsClientError', (err: Error & { code?: string }, socket: TLSSocket) => {
    fail(socket, 'tls-handshake', err.code ?? 'handshake failed', null, null);
  });
  tlsServer.on('secureConnection', (socket: TLSSocket) => {
    let id: SpiffeId;
    const sni = typeof socket.servername === 'string' ? socket.servername : null;
    try {
      source.getX509Svid(); // no identity of our own any more: serve nobody
      id = verifyTlsPeer(socket, source, options.authorize);
    } catch (err) {
      const code = (err as { code?: string }).code;
      fail(socket, code === 'ERR_PEER_NO_CERTIFICATE' ? 'no-certificate' : code === 'ERR_PEER_UNAUTHORIZED' ? 'unauthorized-trust-domain' : 'bad-certificate', (err as Error).message, null, sni);
      socket.destroy();
      return;
    }
    const revoked = options.revoked();
    if (revoked.size > 0) {
      const serial = socket.getPeerX509Certificate()?.serialNumber.toLowerCase().replace(/^0+(?=.)/, '');
      if (serial !== undefined && revoked.has(serial)) {
        fail(socket, 'revoked-certificate', `serial ${serial} is revoked`, id.toString(), sni);
        socket.destroy();
        return;
      }
    }
    (socket as unknown as Record<symbol, string>)[kPeer] = id.toString();
    dispatch(socket);
  });

  const dispatch = (socket: TLSSocket | Socket) => {
    if (config.protocol === 'tcp') {
      options.onTcp?.(socket, peerOfSocket(socket));
    } else if ((socket as TLSSocket).alpnProtocol === 'h2' && h2Server) {
      h2Server.emit('connection', socket);
    } else {
      h1Listener!.call(httpsServer, socket);
    }
  };

  // Rotation: new handshakes present the new SVID; connections in flight keep theirs.
  const unsubscribe = onSourceUpdate(source, () => {
    let next: X509Svid;
    try {
      next = source.getX509Svid();
    } catch {
      return;
    }
    // a source may re-emit the same SVID (a watched directory that changed for another reason)
    if (next === current || next.certificatesPem() === current.certificatesPem()) return;
    tlsServer.setSecureContext(serverContextOptions(next));
    current = next;
    options.onLog?.('SVID rotated', { id: next.id.toString(), expiresAt: next.expiresAt.toISOString() });
  });

  let front: NetServer = tlsServer;
  if (config.mode === 'PERMISSIVE') {
    front = createNetServer({ pauseOnConnect: true }, (socket) => {
      if (lockout.check(sourceOf(socket)).locked) {
        metrics.lockoutRefusal();
        socket.destroy();
        return;
      }
      socket.once('readable', () => {
        const first = socket.read(1) as Buffer | null;
        if (first === null) {
          socket.destroy();
          return;
        }
        socket.unshift(first);
        if (first[0] === 0x16) tlsServer.emit('connection', socket);
        else dispatchPlain(socket);
      });
    });
  }
  const dispatchPlain = (socket: Socket) => {
    // Plaintext carries no principal: every principal-based ALLOW fails (SECURITY-CASES 66).
    if (config.protocol === 'tcp') options.onTcp?.(socket, null);
    else h1Listener!.call(httpsServer, socket);
  };

  await new Promise<void>((resolve, reject) => {
    front.once('error', reject);
    front.listen(config.listen.port, config.listen.host, () => {
      front.off('error', reject);
      resolve();
    });
  });
  if (front !== tlsServer) {
    // connection tracking (request/headers timeouts) of the https server starts on 'listening'
    tlsServer.emit('listening');
  }
  const address = front.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.listen.port;
  return {
    server: front,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        unsubscribe();
        front.close(() => resolve());
        httpsServer?.closeIdleConnections();
        if (front !== tlsServer) tlsServer.close();
        setTimeout(() => {
          httpsServer?.closeAllConnections();
          resolve();
        }, 2_000).unref();
      }),
  };
}
