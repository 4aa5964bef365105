/**
 * Header rules at the trust boundary, precomputed once.
 *
 * - Hop-by-hop headers (RFC 9110 §7.6.1) are never forwarded, in either
 *   direction, nor any header the `Connection` header names.
 * - Identity headers are set only by us: a client's `x-meshward-peer-id` and
 *   `x-forwarded-client-cert` are dropped (SECURITY-CASES 51).
 * - `authorization` is dropped when the proxy authenticated the request by
 *   its JWT-SVID (Envoy jwt_authn `forward: false`, the default), unless
 *   `inbound.jwt.forwardOriginalToken` keeps it.
 * - `x-request-id`, `traceparent` and `tracestate` are replaced by the values
 *   the proxy resolved (kept when valid, see src/audit and src/telemetry).
 */
export const PEER_ID_HEADER = 'x-meshward-peer-id';

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
]);

/**
 * Dropped from requests going to the app: we set our own values, and
 * `expect` was already answered by our own server (100-continue).
 */
const REQUEST_DROP = new Set([...HOP_BY_HOP, PEER_ID_HEADER, 'x-forwarded-client-cert', 'x-request-id', 'traceparent', 'tracestate', 'host', 'expect']);

/** Dropped from responses going back to the client. */
const RESPONSE_DROP = HOP_BY_HOP;

/** Names a `Connection` header lists (lower-case), or null. */
function connectionListed(value: string | string[] | undefined): Set<string> | null {
  if (value === undefined) return null;
  const s = Array.isArray(value) ? value.join(',') : value;
  let out: Set<string> | null = null;
  for (const part of s.split(',')) {
    const name = part.trim().toLowerCase();
    if (name === '' || name === 'close' || name === 'keep-alive') continue;
    (out ??= new Set()).add(name);
  }
  return out;
}

function hasCrLf(v: string): boolean {
  return v.indexOf('\r') !== -1 || v.indexOf('\n') !== -1 || v.indexOf('\0') !== -1;
}

/**
 * The flat `[name, value, ...]` list for the app: the client's end-to-end
 * headers (duplicates kept, from `rawHeaders`), then ours. Pseudo-headers
 * (HTTP/2) are skipped; `host` is set from the authority.
 */
export function requestHeadersForApp(
  rawHeaders: readonly string[],
  connection: string | string[] | undefined,
  host: string | undefined,
  peerId: string | null,
  requestId: string,
  traceparent: string,
  tracestate: string | null,
  dropAuthorization = false,
): string[] {
  const listed = connectionListed(connection);
  const out: string[] = [];
  if (host !== undefined) out.push('host', host);
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (name.charCodeAt(0) === 58 /* ':' */) continue;
    const lower = name.toLowerCase();
    if (REQUEST_DROP.has(lower) || (listed !== null && listed.has(lower))) continue;
    if (dropAuthorization && lower === 'authorization') continue;
    out.push(name, rawHeaders[i + 1]!);
  }
  // The verified ID comes from ASN.1 parsing and SPIFFE ID validation, so it cannot hold CR/LF;
  // the check is defence in depth (SECURITY-CASES 57): never write such a value.
  if (peerId !== null && !hasCrLf(peerId)) out.push(PEER_ID_HEADER, peerId);
  out.push('x-request-id', requestId, 'traceparent', traceparent);
  if (tracestate !== null) out.push('tracestate', tracestate);
  return out;
}

/** The app's response headers for the client, hop-by-hop removed. */
export function responseHeadersForClient(headers: Readonly<Record<string, string | string[] | undefined>>): Record<string, string | string[]> {
  const listed = connectionListed(headers.connection);
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    const v = headers[name];
    if (v === undefined || RESPONSE_DROP.has(name) || (listed !== null && listed.has(name))) continue;
    out[name] = v;
  }
  return out;
}

/** Outbound (app → mesh): the app's request headers minus hop-by-hop and identity headers. */
export function requestHeadersForUpstream(headers: Readonly<Record<string, string | string[] | undefined>>, requestId: string, traceparent: string, tracestate: string | null): Record<string, string | string[]> {
  const listed = connectionListed(headers.connection);
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    const v = headers[name];
    if (v === undefined || REQUEST_DROP.has(name) || (listed !== null && listed.has(name))) continue;
    out[name] = v;
  }
  out['x-request-id'] = requestId;
  out.traceparent = traceparent;
  if (tracestate !== null) out.tracestate = tracestate;
  return out;
}
