/**
 * The Workload API endpoint address (SPIFFE Workload Endpoint §4):
 * `unix:///absolute/path` (no authority, nothing else) or
 * `tcp://<IP>:<port>` (IP literal, port, nothing else). Stricter than
 * go-spiffe, which accepts `unix://host/path`.
 */
import { isIP } from 'node:net';
import { WorkloadError } from './errors.js';

export const SPIFFE_ENDPOINT_SOCKET = 'SPIFFE_ENDPOINT_SOCKET';

export interface WorkloadEndpoint {
  readonly kind: 'unix' | 'tcp';
  /** The URI as given. */
  readonly uri: string;
  /** The gRPC target (`unix:///path`, `ipv4:1.2.3.4:80`, `ipv6:[::1]:80`). */
  readonly target: string;
}

function bad(message: string): WorkloadError {
  return new WorkloadError('ERR_WORKLOAD_BAD_ADDRESS', `workload endpoint socket URI ${message}`);
}

export function parseWorkloadEndpoint(uri: string): WorkloadEndpoint {
  if (typeof uri !== 'string' || uri.length === 0) throw bad('is empty');
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw bad('is not a valid URI');
  }
  if (url.username || url.password) throw bad('must not include user info');
  if (url.search) throw bad('must not include query values');
  if (url.hash || uri.includes('#')) throw bad('must not include a fragment');
  if (url.protocol === 'unix:') {
    if (!uri.startsWith('unix://')) throw bad('must be unix:///absolute/path (an opaque unix URI is refused)');
    if (url.host) throw bad('must not include an authority (unix:///absolute/path)');
    if (!url.pathname || url.pathname === '/') throw bad('must include a path');
    return { kind: 'unix', uri, target: `unix://${decodeURIComponent(url.pathname)}` };
  }
  if (url.protocol === 'tcp:') {
    if (!url.hostname) throw bad('must include a host');
    if (url.pathname && url.pathname !== '') throw bad('must not include a path');
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    const family = isIP(host);
    if (family === 0) throw bad('host component must be an IP:port');
    if (!url.port) throw bad('must include a port');
    return { kind: 'tcp', uri, target: family === 4 ? `ipv4:${host}:${url.port}` : `ipv6:[${host}]:${url.port}` };
  }
  throw bad('must have a "tcp" or "unix" scheme');
}

/** The configured address, else `SPIFFE_ENDPOINT_SOCKET`. */
export function resolveWorkloadEndpoint(address?: string): WorkloadEndpoint {
  const uri = address ?? process.env[SPIFFE_ENDPOINT_SOCKET];
  if (uri === undefined || uri === '') {
    throw new WorkloadError('ERR_WORKLOAD_NO_ADDRESS', `no Workload API address: pass { address } or set ${SPIFFE_ENDPOINT_SOCKET}`);
  }
  return parseWorkloadEndpoint(uri);
}
