/**
 * Request path normalization, done once before matching. The proxy forwards
 * `forward`, the very path that was authorized, so a backend never sees a
 * path the policy did not. Every step is a choice against a known bypass;
 * see docs/policy.md "Normalization".
 */

export interface PathNormalizationOptions {
  /** `%2F` and `%5C`: refuse the request (default), or decode them to `/` and normalize. */
  readonly escapedSlashes?: 'reject' | 'decode';
  /** Merge `//` into `/` (default true). */
  readonly mergeSlashes?: boolean;
  /** `;params` in a segment: refuse the request (default), or strip `;…` from every segment as Tomcat does. */
  readonly pathParameters?: 'reject' | 'strip';
}

export type NormalizedPath =
  | { readonly ok: true; readonly path: string; readonly query: string | null; readonly forward: string }
  | { readonly ok: false; readonly reason: string };

const UNRESERVED = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~') UNRESERVED[c.charCodeAt(0)] = 1;

/** Characters the first pass must look at; everything else (and non-ASCII) passes through. */
const SPECIAL = new Uint8Array(128);
for (let c = 0; c <= 0x20; c++) SPECIAL[c] = 1;
for (const c of '%\\;/.?#\x7f') SPECIAL[c.charCodeAt(0)] = 1;

const PERCENT = 0x25;
const SLASH = 0x2f;
const BACKSLASH = 0x5c;
const SEMICOLON = 0x3b;
const DOT = 0x2e;
const QUESTION = 0x3f;
const HASH = 0x23;

export function normalizePath(raw: string, options: PathNormalizationOptions = {}): NormalizedPath {
  if (typeof raw !== 'string' || raw.charCodeAt(0) !== SLASH) return fail('path must start with "/"');
  // One pass up to "?" or "#": refuse controls, and see whether any slow step is needed.
  let clean = true;
  let percent = false;
  let prev = -1;
  let end = raw.length;
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c < 128 && SPECIAL[c] === 0) {
      prev = c;
      continue;
    }
    if (c === QUESTION || c === HASH) {
      end = i;
      break;
    }
    if (c <= 0x20 || c === 0x7f) return fail(c === 0 ? 'NUL in path' : 'control character or space in path');
    if (c === PERCENT) {
      percent = true;
      clean = false;
    } else if (c === BACKSLASH || c === SEMICOLON || (c === SLASH && prev === SLASH) || (c === DOT && prev === SLASH)) {
      clean = false;
    }
    prev = c;
  }
  const query = queryOf(raw, end);
  let path = end === raw.length ? raw : raw.slice(0, end);
  if (clean) return done(path, query);

  if (percent) {
    const decoded = decodeOnce(path, options.escapedSlashes ?? 'reject');
    if (!decoded.ok) return decoded;
    path = decoded.path;
  }
  if (path.includes('\\')) path = path.replaceAll('\\', '/');
  if (path.includes(';')) {
    if ((options.pathParameters ?? 'reject') === 'reject') return fail('path parameters (";") are not allowed');
    path = path
      .split('/')
      .map((seg) => {
        const at = seg.indexOf(';');
        return at === -1 ? seg : seg.slice(0, at);
      })
      .join('/');
  }
  if (options.mergeSlashes ?? true) path = path.replace(/\/{2,}/g, '/');
  return done(removeDotSegments(path), query);
}

function fail(reason: string): NormalizedPath {
  return { ok: false, reason };
}

function done(path: string, query: string | null): NormalizedPath {
  return { ok: true, path, query, forward: query === null ? path : `${path}?${query}` };
}

/** The query runs from "?" to "#"; the fragment is dropped (and a "#" before any "?" ends everything). */
function queryOf(raw: string, end: number): string | null {
  if (end === raw.length || raw.charCodeAt(end) === HASH) return null;
  const hash = raw.indexOf('#', end);
  return hash === -1 ? raw.slice(end + 1) : raw.slice(end + 1, hash);
}

/**
 * Decodes, in a single left-to-right pass, the unreserved characters (and
 * `%2F`/`%5C` when asked to). Everything else stays encoded with upper-case
 * hex, so `%252F` stays `%252F`: nothing is ever decoded twice.
 */
function decodeOnce(path: string, escapedSlashes: 'reject' | 'decode'): { ok: true; path: string } | { ok: false; reason: string } {
  let out = '';
  let from = 0;
  for (let i = path.indexOf('%'); i !== -1; i = path.indexOf('%', i)) {
    const hex = path.slice(i + 1, i + 3);
    if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return { ok: false, reason: `malformed percent-encoding at offset ${i}` };
    const byte = parseInt(hex, 16);
    out += path.slice(from, i);
    if (byte === 0) return { ok: false, reason: 'encoded NUL (%00) in path' };
    if (byte === SLASH || byte === BACKSLASH) {
      if (escapedSlashes === 'reject') return { ok: false, reason: 'escaped slash (%2F or %5C) in path' };
      out += '/';
    } else if (byte < 128 && UNRESERVED[byte] === 1) {
      out += String.fromCharCode(byte);
    } else {
      out += `%${hex.toUpperCase()}`;
    }
    i += 3;
    from = i;
  }
  return { ok: true, path: out + path.slice(from) };
}

/** RFC 3986 §5.2.4 on an absolute path; a trailing `.` or `..` leaves a trailing slash. */
export function removeDotSegments(path: string): string {
  if (!path.includes('/.')) return path;
  const segments = path.split('/');
  const out: string[] = [];
  for (let i = 1; i < segments.length; i++) {
    const seg = segments[i]!;
    const last = i === segments.length - 1;
    if (seg === '.' || seg === '..') {
      if (seg === '..') out.pop();
      if (last) out.push('');
    } else {
      out.push(seg);
    }
  }
  return `/${out.join('/')}`;
}
