/**
 * Listener limits the proxy spreads into its servers' options:
 * `http.createServer({ ...serverLimits, ... })`,
 * `http2.createSecureServer({ ...http2Limits, ... })`, then
 * `applyServerLimits(server)` for the limits Node only takes as properties
 * (`maxRequestsPerSocket`, `maxHeadersCount`).
 *
 * Measured on Node 20.20 (test/guard/http1-hygiene.test.ts, http2-limits.test.ts):
 * llhttp with `insecureHTTPParser: false` already answers 400 to bare LF
 * (request line, headers, chunk lines), bare CR, TE + CL, repeated or
 * comma-listed Content-Length, Transfer-Encoding not ending in chunked,
 * obs-fold, raw NUL / CTL / DEL in the target or headers, space before the
 * colon, missing Host on HTTP/1.1; and 431 past `maxHeaderSize`. It does NOT
 * refuse: `%00` in the target, a fragment (`#`), an absolute-form target,
 * HTTP/0.9, two Host headers, or `Transfer-Encoding: gzip, chunked` — those
 * are `checkRequestHygiene`'s job. nghttp2 closes an HTTP/2 session after
 * more than 8 CONTINUATION frames (CVE-2024-27983 fix) and after ~1,000 rapid
 * resets (its RST_STREAM rate limit); `guardHttp2Session` closes at Envoy's
 * tighter threshold (> 50% premature resets after 500 streams).
 */
import type { Server as HttpServer, ServerOptions as HttpServerOptions } from 'node:http';
import type { SecureServerOptions } from 'node:http2';

/** Header block size for HTTP/1.1 and HTTP/2 (decoded, cookies included), 16 KiB (Node's default; Envoy's is 60 KiB). */
export const MAX_HEADER_BYTES = 16 * 1024;
/** Default request body limit, 1 MiB. */
export const MAX_BODY_BYTES = 1024 * 1024;

export const serverLimits = Object.freeze({
  insecureHTTPParser: false,
  maxHeaderSize: MAX_HEADER_BYTES,
  /** Whole request (headers and body) must arrive within 30 s (slowloris). */
  requestTimeout: 30_000,
  headersTimeout: 10_000,
  keepAliveTimeout: 5_000,
  requireHostHeader: true,
  joinDuplicateHeaders: false,
  connectionsCheckingInterval: 1_000,
} satisfies HttpServerOptions);

/** Server properties with no constructor option in Node 20. */
export const serverProperties = Object.freeze({
  /** Requests per keep-alive connection; then `connection: close` (Node answers 503 to extra pipelined ones). */
  maxRequestsPerSocket: 1000,
  /** Header lines per request (Node's default is 2000). */
  maxHeadersCount: 100,
});

export const http2Limits = Object.freeze({
  /** MiB of nghttp2 memory per session; past it new streams are refused (ENHANCE_YOUR_CALM). */
  maxSessionMemory: 10,
  /** Streams the peer may open before SETTINGS are acknowledged. */
  peerMaxConcurrentStreams: 100,
  /** Header lines per block, pseudo-headers included. */
  maxHeaderListPairs: 100,
  maxSessionInvalidFrames: 100,
  maxSessionRejectedStreams: 100,
  maxOutstandingPings: 10,
  unknownProtocolTimeout: 10_000,
  settings: {
    maxConcurrentStreams: 100,
    maxHeaderListSize: MAX_HEADER_BYTES,
    enablePush: false,
  },
} satisfies SecureServerOptions);

export function applyServerLimits(server: HttpServer, overrides: { maxRequestsPerSocket?: number; maxHeadersCount?: number } = {}): HttpServer {
  const p = { ...serverProperties, ...overrides };
  server.maxRequestsPerSocket = p.maxRequestsPerSocket;
  server.maxHeadersCount = p.maxHeadersCount;
  return server;
}
