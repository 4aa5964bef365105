/**
 * The server API's transport: HTTPS with TLS 1.3 only, the server SVID
 * (swapped in place on rotation with `setSecureContext`), a client
 * certificate requested but not required, and no session resumption (no
 * tickets, no session cache), so every connection runs the SPIFFE check.
 *
 * Node's own client-certificate check is off (`rejectUnauthorized: false`):
 * it would trust the union of every root. Instead the presented chain is
 * verified with `verifyX509Svid` against the trust-domain bundle, once per
 * connection, again when the bundle changes or the leaf expires.
 */
import { constants as cryptoConstants } from 'node:crypto';
import { createServer, type Server, type ServerOptions } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import type { Bundle } from '../spiffe/bundle.js';
import { ParsedCertificate } from '../spiffe/x509/certificate.js';
import { verifyX509Svid } from '../spiffe/x509/verify.js';
import { peerChainDer } from '../workload/peer-chain.js';
import type { Caller } from './server-context.js';
import type { ServerCredential } from './server-identity.js';

export interface TlsLimits {
  /** Most open connections. */
  readonly maxConnections: number;
  /** Time to receive a request's headers. */
  readonly headersTimeoutMs: number;
  /** Time to receive a whole request. */
  readonly requestTimeoutMs: number;
  /** Idle time before a keep-alive connection is closed. */
  readonly keepAliveTimeoutMs: number;
  /** Idle socket timeout (the watch stream sends a heartbeat well within it). */
  readonly idleTimeoutMs: number;
}

export const DEFAULT_TLS_LIMITS: TlsLimits = {
  maxConnections: 10_000,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 65_000,
  idleTimeoutMs: 120_000,
};

const MAX_HEADER_BYTES = 16 * 1024;

export function tlsContextOptions(credential: ServerCredential): ServerOptions {
  return {
    key: credential.keyPem,
    cert: credential.certPem,
    minVersion: 'TLSv1.3',
    maxVersion: 'TLSv1.3',
    requestCert: true,
    rejectUnauthorized: false,
    // No stateless tickets; and Node keeps no internal server session cache
    // (it only resumes through 'resumeSession' listeners, which we never add).
    secureOptions: cryptoConstants.SSL_OP_NO_TICKET,
    sessionTimeout: 0,
    ALPNProtocols: ['http/1.1'],
  };
}

/** An HTTPS server for fastify's `serverFactory`, with limits and credential rotation. */
export function createTlsServer(
  credential: ServerCredential,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  limits: TlsLimits = DEFAULT_TLS_LIMITS,
): Server & { rotate(credential: ServerCredential): void } {
  const server = createServer({ ...tlsContextOptions(credential), maxHeaderSize: MAX_HEADER_BYTES }, handler) as Server & { rotate(credential: ServerCredential): void };
  server.maxConnections = limits.maxConnections;
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = limits.requestTimeoutMs;
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  server.timeout = limits.idleTimeoutMs;
  server.rotate = (c: ServerCredential) => server.setSecureContext(tlsContextOptions(c));
  return server;
}

interface Verified {
  readonly bundle: Bundle;
  readonly caller: Caller;
  /** Re-verify after this time (the leaf's expiry). */
  readonly validUntil: number;
}

/** Who is on the other end of a TLS connection, verified against the bundle. */
export class TlsPeerAuthenticator {
  readonly #bundle: () => Bundle;
  readonly #log: Logger;
  readonly #cache = new WeakMap<object, Verified>();

  constructor(bundle: () => Bundle, log: Logger) {
    this.#bundle = bundle;
    this.#log = log;
  }

  callerOf(socket: TLSSocket): Caller {
    const bundle = this.#bundle();
    const now = Date.now();
    const cached = this.#cache.get(socket);
    if (cached !== undefined && cached.bundle === bundle && now <= cached.validUntil) return cached.caller;
    const verified = this.#verify(socket, bundle, now);
    this.#cache.set(socket, verified);
    return verified.caller;
  }

  #verify(socket: TLSSocket, bundle: Bundle, now: number): Verified {
    const anonymous: Caller = { kind: 'anonymous', sourceIp: socket.remoteAddress ?? '' };
    let chain: Buffer[];
    try {
      chain = typeof socket.getPeerCertificate === 'function' ? peerChainDer(socket) : [];
    } catch {
      chain = [];
    }
    if (chain.length === 0) return { bundle, caller: anonymous, validUntil: Infinity };
    try {
      const { id } = verifyX509Svid(chain, bundle, { now: new Date(now) });
      const leaf = ParsedCertificate.fromDer(chain[0]!);
      return { bundle, caller: { kind: 'svid', id, serialNumber: leaf.serialNumber.toString('hex') }, validUntil: leaf.notAfterMs };
    } catch (err) {
      this.#log.debug({ peer: socket.remoteAddress, reason: (err as Error).message }, 'client certificate refused');
      return { bundle, caller: anonymous, validUntil: Infinity };
    }
  }
}
