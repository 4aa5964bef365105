/**
 * URI and DNS name constraints (RFC 5280 §4.2.1.10) applied to the SANs of
 * every certificate below the constraining CA. For a URI the constraint names
 * a host (`td.example` exactly, or `.example` for any subdomain); a SPIFFE ID's
 * host is its trust domain. Constraints on any other name type (directory
 * names, IPs, e-mail, bounded subtrees) are not evaluated, so they fail closed.
 */
import { SpiffeId } from '../spiffe-id.js';
import type { ParsedCertificate } from './certificate.js';
import type { NameConstraints, NameSubtree } from './extensions.js';
import { X509SvidError } from './x509-svid-error.js';

export function checkNameConstraints(constraints: NameConstraints, cert: ParsedCertificate): void {
  const { permitted, excluded } = constraints;
  if (permitted.some(isOther) || excluded.some(isOther)) {
    throw violation('CA name constraints of a type other than URI or DNS are not supported');
  }
  for (const uri of cert.extensions.uris) {
    const host = SpiffeId.tryParse(uri)?.trustDomain.name;
    if (host === undefined) {
      if (permitted.some(isUri) || excluded.some(isUri)) throw violation('a URI SAN that is not a SPIFFE ID cannot be checked against URI name constraints');
      continue;
    }
    checkName(host, 'uri', permitted, excluded, `URI SAN trust domain ${JSON.stringify(host)}`);
  }
  for (const dns of cert.extensions.dnsNames) {
    checkName(dns.toLowerCase(), 'dns', permitted, excluded, `DNS SAN ${JSON.stringify(dns)}`);
  }
}

function checkName(name: string, kind: 'uri' | 'dns', permitted: readonly NameSubtree[], excluded: readonly NameSubtree[], what: string): void {
  const allow = permitted.filter((s) => s.kind === kind);
  if (allow.length > 0 && !allow.some((s) => nameMatches(kind, name, s.value))) throw violation(`${what} is not permitted by the CA's name constraints`);
  if (excluded.some((s) => s.kind === kind && nameMatches(kind, name, s.value))) throw violation(`${what} is excluded by the CA's name constraints`);
}

/**
 * `.example.org` matches only subdomains. Without a leading dot a URI
 * constraint names exactly one host, while a DNS constraint also covers its
 * subdomains. The empty DNS constraint matches everything.
 */
function nameMatches(kind: 'uri' | 'dns', host: string, constraint: string): boolean {
  const c = constraint.toLowerCase();
  if (c.startsWith('.')) return host.endsWith(c) && host.length > c.length;
  if (kind === 'uri') return host === c;
  return c.length === 0 || host === c || host.endsWith('.' + c);
}

const isOther = (s: NameSubtree): boolean => s.kind === 'other';
const isUri = (s: NameSubtree): boolean => s.kind === 'uri';

function violation(message: string): X509SvidError {
  return new X509SvidError('ERR_X509_SVID_NAME_CONSTRAINTS', message);
}
