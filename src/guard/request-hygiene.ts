/**
 * The request checks Node's parser leaves to us (see server-limits.ts for
 * what llhttp and nghttp2 already refuse). Returns a GuardError (400, or 501
 * for an unsupported transfer coding) or undefined: a value, not an
 * exception, on the hot path. Also re-checks NUL/CR/LF in header names and
 * values, which llhttp refuses but a future parser flag must not let through.
 */
import { GuardError } from './guard-error.js';
import { MAX_HEADER_BYTES } from './server-limits.js';

export interface HygieneRequest {
  readonly method?: string | undefined;
  readonly url?: string | undefined;
  readonly httpVersion: string;
  readonly rawHeaders: readonly string[];
}

export interface HygieneOptions {
  /** Accept absolute-form targets (`GET http://host/path`); default false — a sidecar receives origin-form only. */
  readonly allowAbsoluteForm?: boolean;
  /**
   * Decoded header-list size limit (name + value + 32 per field, as HTTP/2's
   * SETTINGS_MAX_HEADER_LIST_SIZE counts), cookies included; default 16 KiB.
   * Node 20's HTTP/2 server lets a header list of ~65 KB of cookie crumbs
   * through despite `maxHeaderListSize: 16384` (HPACK amplification,
   * SECURITY-CASES 71), so it is counted here → 431.
   */
  readonly maxHeaderBytes?: number;
}

export function checkRequestHygiene(req: HygieneRequest, options: HygieneOptions = {}): GuardError | undefined {
  const v = req.httpVersion;
  if (v !== '1.1' && v !== '1.0' && v !== '2.0') return bad(`unsupported HTTP version "${v.slice(0, 8)}"`);
  const target = req.url ?? '';
  if (target.length === 0) return bad('empty request target');
  const first = target.charCodeAt(0);
  if (first !== 0x2f /* / */) {
    if (target === '*') {
      if (req.method !== 'OPTIONS') return bad('asterisk-form target outside OPTIONS');
    } else if (req.method === 'CONNECT') {
      return bad('CONNECT is not proxied');
    } else if (options.allowAbsoluteForm !== true) {
      return bad('request target must be origin-form');
    }
  }
  for (let i = 0; i < target.length; i++) {
    const c = target.charCodeAt(i);
    if (c <= 0x20 || c === 0x7f || c > 0x7e) return bad('control, space or non-ASCII byte in the request target');
    if (c === 0x23 /* # */) return bad('fragment in the request target');
    if (c === 0x25 /* % */ && target.charCodeAt(i + 1) === 0x30 && target.charCodeAt(i + 2) === 0x30) return bad('encoded NUL in the request target');
  }
  const raw = req.rawHeaders;
  const maxHeaderBytes = options.maxHeaderBytes ?? MAX_HEADER_BYTES;
  let hosts = 0;
  let headerBytes = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    const value = raw[i + 1] as string;
    headerBytes += name.length + value.length + 32;
    if (headerBytes > maxHeaderBytes) return new GuardError('ERR_GUARD_HEADERS_TOO_LARGE', `header list larger than ${maxHeaderBytes} bytes`);
    if (hasNulCrLf(name) || hasNulCrLf(value)) return bad('NUL, CR or LF in a header');
    if (name.length === 4 && name.toLowerCase() === 'host') hosts++;
    else if (name.length === 17 && name.toLowerCase() === 'transfer-encoding') {
      if (v === '2.0') return bad('transfer-encoding in HTTP/2');
      if (value.trim().toLowerCase() !== 'chunked') return new GuardError('ERR_GUARD_NOT_IMPLEMENTED', 'only "chunked" transfer coding is accepted');
    }
  }
  if (hosts > 1) return bad('more than one Host header');
  return undefined;
}

function hasNulCrLf(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0 || c === 0x0a || c === 0x0d) return true;
  }
  return false;
}

function bad(message: string): GuardError {
  return new GuardError('ERR_GUARD_BAD_REQUEST', message);
}
