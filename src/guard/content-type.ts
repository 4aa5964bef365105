/**
 * Media types (RFC 9110 §8.3.1): `type/subtype *( OWS ";" OWS name=value )`,
 * type, subtype and parameter names case-insensitive, values token or
 * quoted-string. `parseMediaType` returns undefined for anything malformed;
 * `checkContentType` does an exact type/subtype match against a route's list
 * (`application/json; charset=utf-8` matches `application/json`) and refuses
 * any charset other than UTF-8 for JSON.
 */
import { GuardError } from './guard-error.js';

export interface MediaType {
  /** Lowercase `type/subtype`. */
  readonly essence: string;
  /** Parameter names lowercase; values as sent (unquoted). */
  readonly parameters: ReadonlyMap<string, string>;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export function parseMediaType(header: string): MediaType | undefined {
  if (header.length > 1024) return undefined;
  const semi = header.indexOf(';');
  const essence = (semi === -1 ? header : header.slice(0, semi)).trim().toLowerCase();
  const slash = essence.indexOf('/');
  if (slash <= 0 || !TOKEN.test(essence.slice(0, slash)) || !TOKEN.test(essence.slice(slash + 1))) return undefined;
  const parameters = new Map<string, string>();
  let rest = semi === -1 ? '' : header.slice(semi + 1);
  while (rest.length > 0) {
    rest = rest.replace(/^[ \t]+/, '');
    if (rest.length === 0) break;
    const eq = rest.indexOf('=');
    if (eq <= 0) return undefined;
    const name = rest.slice(0, eq).toLowerCase();
    if (!TOKEN.test(name)) return undefined;
    rest = rest.slice(eq + 1);
    let value: string;
    if (rest.startsWith('"')) {
      let i = 1;
      value = '';
      for (; i < rest.length && rest[i] !== '"'; i++) {
        if (rest[i] === '\\') i++;
        value += rest[i] ?? '';
      }
      if (i >= rest.length) return undefined;
      rest = rest.slice(i + 1).replace(/^[ \t]+/, '');
    } else {
      const end = rest.indexOf(';');
      value = (end === -1 ? rest : rest.slice(0, end)).replace(/[ \t]+$/, '');
      if (!TOKEN.test(value)) return undefined;
      rest = end === -1 ? '' : rest.slice(end);
    }
    if (rest.length > 0) {
      if (!rest.startsWith(';')) return undefined;
      rest = rest.slice(1);
    }
    if (parameters.has(name)) return undefined;
    parameters.set(name, value);
  }
  return { essence, parameters };
}

/** Checks `header` against the allowed media types; 415 when absent, malformed or not listed. */
export function checkContentType(header: string | undefined, allowed: ReadonlySet<string>): GuardError | MediaType {
  if (header === undefined || header === '') return unsupported('missing content-type');
  const media = parseMediaType(header);
  if (media === undefined) return unsupported('malformed content-type');
  if (!allowed.has(media.essence)) return unsupported(`content-type "${media.essence.slice(0, 64)}" not accepted on this route`);
  const charset = media.parameters.get('charset');
  if (charset !== undefined && isJson(media.essence) && charset.toLowerCase() !== 'utf-8') return unsupported('JSON must be UTF-8');
  return media;
}

export function isJson(essence: string): boolean {
  return essence === 'application/json' || essence.endsWith('+json');
}

function unsupported(message: string): GuardError {
  return new GuardError('ERR_GUARD_UNSUPPORTED_MEDIA_TYPE', message);
}
