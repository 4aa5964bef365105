/**
 * Checks of request fields at the boundary: each check refuses (never
 * sanitizes) and names the field by its path in the request.
 */
import { SpiffeId } from '../../spiffe/spiffe-id.js';
import { TrustDomain } from '../../spiffe/trust-domain.js';
import { AdminError, invalid } from './admin-error.js';

/** SVID TTLs, in seconds: 0 (server default) up to one year. */
export const MAX_TTL_SECONDS = 365 * 86400;
export const MAX_SELECTORS = 64;
export const MAX_SELECTOR_VALUE_BYTES = 1024;
export const MAX_SELECTOR_TYPE_LENGTH = 64;
export const MAX_DNS_NAMES = 100;
export const MAX_FEDERATES_WITH = 64;
export const MAX_LABELS = 64;
export const MAX_LABEL_KEY_LENGTH = 63;
export const MAX_LABEL_VALUE_LENGTH = 256;
export const MAX_HINT_BYTES = 1024;
export const MAX_REASON_BYTES = 1024;
/** The path prefix reserved for the server's and agents' own IDs. */
export const RESERVED_PATH_PREFIX = '/meshward/';

const SELECTOR_TYPE = /^[a-z0-9_]+$/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
const DNS_NAME = /^(\*\.)?(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;
const LABEL_KEY = /^[A-Za-z0-9](?:[A-Za-z0-9._/-]*[A-Za-z0-9])?$/;
const ENTRY_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export type Json = Record<string, unknown>;

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : typeof value;
}

/** A JSON object with no members but `allowed`; `field` is its path ('' for the body). */
export function object(value: unknown, field: string, allowed: readonly string[]): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw field === ''
      ? new AdminError('ERR_ADMIN_MALFORMED_REQUEST', `the request body must be a JSON object, got ${describe(value)}`)
      : invalid(field, `must be an object, got ${describe(value)}`);
  }
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      const path = join(field, key);
      throw new AdminError('ERR_ADMIN_UNKNOWN_FIELD', `${path}: unknown field (allowed: ${allowed.join(', ')})`, path);
    }
  }
  return value as Json;
}

export function join(base: string, key: string): string {
  return base === '' ? key : `${base}.${key}`;
}

export function required<T>(value: T | undefined, field: string): T {
  if (value === undefined) throw new AdminError('ERR_ADMIN_MISSING_FIELD', `${field}: is required`, field);
  return value;
}

export function string(value: unknown, field: string, maxBytes: number, options: { allowEmpty?: boolean } = {}): string {
  if (typeof value !== 'string') throw invalid(field, `must be a string, got ${describe(value)}`);
  if (value.length === 0 && options.allowEmpty !== true) throw invalid(field, 'must not be empty');
  if (Buffer.byteLength(value) > maxBytes) throw invalid(field, `is ${Buffer.byteLength(value)} bytes; at most ${maxBytes} are allowed`);
  if (CONTROL.test(value)) throw invalid(field, 'must not contain NUL or other control characters');
  return value;
}

export function boolean(value: unknown, field: string): boolean {
  if (typeof value !== 'boolean') throw invalid(field, `must be true or false, got ${describe(value)}`);
  return value;
}

export function integer(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw invalid(field, `must be a whole number, got ${typeof value === 'number' ? String(value) : describe(value)}`);
  if (value < min || value > max) throw invalid(field, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

export function ttl(value: unknown, field: string): number {
  return integer(value, field, 0, MAX_TTL_SECONDS);
}

export function array(value: unknown, field: string, max: number): unknown[] {
  if (!Array.isArray(value)) throw invalid(field, `must be an array, got ${describe(value)}`);
  if (value.length > max) throw invalid(field, `has ${value.length} items; at most ${max} are allowed`);
  return value;
}

/** Any valid SPIFFE ID. */
export function spiffeId(value: unknown, field: string): SpiffeId {
  if (typeof value !== 'string') throw invalid(field, `must be a SPIFFE ID string, got ${describe(value)}`);
  try {
    return SpiffeId.parse(value);
  } catch (err) {
    throw invalid(field, `invalid SPIFFE ID: ${(err as Error).message}`);
  }
}

/** A SPIFFE ID in our trust domain, with a path. */
export function localId(value: unknown, field: string, td: TrustDomain): SpiffeId {
  const id = spiffeId(value, field);
  if (!id.memberOf(td)) throw invalid(field, `${id.toString()} is not in trust domain ${td.name}`);
  if (id.isTrustDomainId()) throw invalid(field, `${id.toString()} has no path; an identity needs one (e.g. spiffe://${td.name}/service)`);
  return id;
}

/** A workload identity we may register or mint: local, with a path, outside the reserved `/meshward/` namespace. */
export function workloadId(value: unknown, field: string, td: TrustDomain): SpiffeId {
  const id = localId(value, field, td);
  if (id.path.startsWith(RESERVED_PATH_PREFIX)) {
    throw invalid(field, `${id.toString()} is in the reserved namespace ${RESERVED_PATH_PREFIX} (server and agent identities); choose another path`);
  }
  return id;
}

export function trustDomainName(value: unknown, field: string): TrustDomain {
  if (typeof value !== 'string') throw invalid(field, `must be a trust domain name, got ${describe(value)}`);
  if (value.includes(':')) throw invalid(field, `must be a bare trust domain name such as example.org, not ${JSON.stringify(value.slice(0, 64))}`);
  try {
    return TrustDomain.parse(value);
  } catch (err) {
    throw invalid(field, `invalid trust domain: ${(err as Error).message}`);
  }
}

export interface SelectorValue {
  type: string;
  value: string;
}

export function selector(value: unknown, field: string): SelectorValue {
  const obj = object(value, field, ['type', 'value']);
  const type = required(obj.type, `${field}.type`);
  if (typeof type !== 'string' || type.length === 0 || type.length > MAX_SELECTOR_TYPE_LENGTH || !SELECTOR_TYPE.test(type)) {
    throw invalid(field, `selector type must be 1-${MAX_SELECTOR_TYPE_LENGTH} characters of a-z, 0-9 and _`);
  }
  const v = required(obj.value, `${field}.value`);
  if (typeof v !== 'string' || v.length === 0) throw invalid(field, 'selector value must be a non-empty string');
  if (Buffer.byteLength(v) > MAX_SELECTOR_VALUE_BYTES) throw invalid(field, `selector value is ${Buffer.byteLength(v)} bytes; at most ${MAX_SELECTOR_VALUE_BYTES}`);
  if (CONTROL.test(v)) throw invalid(field, 'selector value must not contain NUL or other control characters');
  return { type, value: v };
}

/** At least one selector, no duplicates; sorted by type then value. */
export function selectors(value: unknown, field: string): SelectorValue[] {
  const list = array(value, field, MAX_SELECTORS);
  if (list.length === 0) throw invalid(field, 'at least one selector is required');
  const out: SelectorValue[] = [];
  const seen = new Set<string>();
  list.forEach((item, i) => {
    const s = selector(item, `${field}[${i}]`);
    const key = `${s.type}\u0000${s.value}`;
    if (seen.has(key)) throw invalid(`${field}[${i}]`, `selector ${s.type}:${s.value} is listed twice`);
    seen.add(key);
    out.push(s);
  });
  return out.sort((a, b) => (a.type === b.type ? compare(a.value, b.value) : compare(a.type, b.type)));
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export function dnsNames(value: unknown, field: string): string[] {
  const list = array(value, field, MAX_DNS_NAMES);
  const seen = new Set<string>();
  return list.map((name, i) => {
    const f = `${field}[${i}]`;
    if (typeof name !== 'string' || name.length > 253 || !DNS_NAME.test(name)) {
      throw invalid(f, 'not a valid DNS name (letters, digits, hyphens and dots; an optional leading "*.")');
    }
    const lower = name.toLowerCase();
    if (seen.has(lower)) throw invalid(f, `${name} is listed twice`);
    seen.add(lower);
    return lower;
  });
}

export function federatesWith(value: unknown, field: string, ours: TrustDomain): string[] {
  const list = array(value, field, MAX_FEDERATES_WITH);
  const seen = new Set<string>();
  return list.map((item, i) => {
    const f = `${field}[${i}]`;
    const td = trustDomainName(item, f);
    if (td.name === ours.name) throw invalid(f, `${td.name} is our own trust domain; federatesWith names foreign ones`);
    if (seen.has(td.name)) throw invalid(f, `${td.name} is listed twice`);
    seen.add(td.name);
    return td.name;
  });
}

export function labels(value: unknown, field: string): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(field, `must be an object of key: value strings, got ${describe(value)}`);
  const entries = Object.entries(value as Json);
  if (entries.length > MAX_LABELS) throw invalid(field, `has ${entries.length} labels; at most ${MAX_LABELS}`);
  const out: Record<string, string> = {};
  for (const [key, v] of entries) {
    const f = `${field}.${key}`;
    if (key.length > MAX_LABEL_KEY_LENGTH || !LABEL_KEY.test(key)) {
      throw invalid(f, `label key must be 1-${MAX_LABEL_KEY_LENGTH} characters of letters, digits, ".", "_", "-", "/", starting and ending with a letter or digit`);
    }
    out[key] = string(v, f, MAX_LABEL_VALUE_LENGTH, { allowEmpty: true });
  }
  return out;
}

export function entryId(value: unknown, field: string): string {
  if (typeof value !== 'string' || !ENTRY_ID.test(value)) throw invalid(field, 'an entry ID is 1-128 characters of letters, digits, ".", "_" and "-", starting with a letter or digit');
  return value;
}

export function epochSeconds(value: unknown, field: string): number {
  return integer(value, field, 1, 253402300799);
}
