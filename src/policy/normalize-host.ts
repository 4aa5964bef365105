/**
 * Host (`:authority`) canonical form, applied to requests and to policy
 * `hosts` alike: lower case (RFC 4343), trailing dots removed, and the
 * default ports 80 and 443 dropped. Any other port stays, as in Istio:
 * `example.com` does not match `example.com:8080`.
 */
export function normalizeHost(host: string): string {
  if (isCanonical(host)) return host;
  let h = host.toLowerCase();
  let port = '';
  if (h.startsWith('[')) {
    const close = h.indexOf(']');
    if (close !== -1 && h.charCodeAt(close + 1) === 0x3a) {
      port = h.slice(close + 2);
      h = h.slice(0, close + 1);
    }
  } else {
    const colon = h.indexOf(':');
    if (colon !== -1 && colon === h.lastIndexOf(':')) {
      port = h.slice(colon + 1);
      h = h.slice(0, colon);
    }
  }
  while (h.endsWith('.')) h = h.slice(0, -1);
  if (port === '' || port === '80' || port === '443') return h;
  return `${h}:${port}`;
}

/** A host in a policy may hold wildcards (`*.example.com`, `example.com:*`); only the fixed part is canonicalized. */
export function normalizeHostPattern(pattern: string): string {
  if (pattern === '*') return pattern;
  if (pattern.startsWith('*')) return `*${normalizeHost(pattern.slice(1))}`;
  if (pattern.endsWith(':*')) return `${normalizeHost(pattern.slice(0, -2))}:*`;
  if (pattern.endsWith('*')) return pattern.toLowerCase();
  return normalizeHost(pattern);
}

/** Lower-case letters, digits, "-" and "." with no trailing dot and no port: already canonical. */
function isCanonical(host: string): boolean {
  for (let i = 0; i < host.length; i++) {
    const c = host.charCodeAt(i);
    if (c >= 128 || CANONICAL[c] === 0) return false;
  }
  return host.charCodeAt(host.length - 1) !== 0x2e;
}

const CANONICAL = new Uint8Array(128);
for (const c of 'abcdefghijklmnopqrstuvwxyz0123456789-.') CANONICAL[c.charCodeAt(0)] = 1;
