/**
 * `tracestate` (W3C Trace Context Level 1, section 3.3): a comma-separated
 * list of `key=value` members. Passed on unchanged when valid; dropped whole
 * when any member is invalid, a key repeats, there are more than 32 members,
 * or the combined header is longer than 512 characters.
 */
export const MAX_TRACESTATE_MEMBERS = 32;
export const MAX_TRACESTATE_LENGTH = 512;

const SIMPLE_KEY = /^[a-z][a-z0-9_\-*\/]{0,255}$/;
const MULTI_TENANT_KEY = /^[a-z0-9][a-z0-9_\-*\/]{0,240}@[a-z][a-z0-9_\-*\/]{0,13}$/;
const VALUE = /^[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;

/** The `tracestate` to pass on (members trimmed, empty ones removed), or null when absent or invalid. */
export function parseTracestate(value: string | readonly string[] | undefined): string | null {
  if (value === undefined) return null;
  const combined = typeof value === 'string' ? value : value.join(',');
  if (combined.length > MAX_TRACESTATE_LENGTH) return null;
  const members: string[] = [];
  const keys = new Set<string>();
  for (const raw of combined.split(',')) {
    const member = raw.replace(/^[ \t]+|[ \t]+$/g, '');
    if (member === '') continue; // empty list members are allowed and ignored
    const eq = member.indexOf('=');
    if (eq <= 0) return null;
    const key = member.slice(0, eq);
    const val = member.slice(eq + 1);
    if (!(SIMPLE_KEY.test(key) || MULTI_TENANT_KEY.test(key)) || !VALUE.test(val)) return null;
    if (keys.has(key)) return null;
    keys.add(key);
    members.push(member);
  }
  if (members.length === 0 || members.length > MAX_TRACESTATE_MEMBERS) return null;
  return members.join(',');
}
