/**
 * Peer identities in Istio's form: a SPIFFE ID without `spiffe://`
 * (`spiffe://td/ns/NS/sa/SA` → `td/ns/NS/sa/SA`). Any other SPIFFE ID maps
 * the same way (`spiffe://td/billing/api` → `td/billing/api`), as Istio does.
 */
const SPIFFE_PREFIX = 'spiffe://';

/** Istio form of a peer identity; `null`/empty means plaintext (no identity). */
export function toIstioPrincipal(principal: string | null | undefined): string | undefined {
  if (principal === null || principal === undefined || principal === '') return undefined;
  return principal.startsWith(SPIFFE_PREFIX) ? principal.slice(SPIFFE_PREFIX.length) : principal;
}

export interface PrincipalParts {
  readonly trustDomain: string;
  /** From the first `/ns/<ns>/` segment pair, when there is one. */
  readonly namespace: string | undefined;
}

export function principalParts(principal: string): PrincipalParts {
  const slash = principal.indexOf('/');
  const trustDomain = slash === -1 ? principal : principal.slice(0, slash);
  let namespace: string | undefined;
  const at = principal.indexOf('/ns/');
  if (at !== -1) {
    const start = at + 4;
    const end = principal.indexOf('/', start);
    if (end > start) namespace = principal.slice(start, end);
  }
  return { trustDomain, namespace };
}

/**
 * Istio's trust-domain aliasing (`trustdomain/bundle.go`): a 5-segment
 * principal whose trust domain is the local one, an alias, or the literal
 * `cluster.local` stands for the same workload in every local trust domain.
 */
export function expandTrustDomainAliases(principal: string, localTrustDomain: string, aliases: readonly string[]): string[] {
  const parts = principal.split('/');
  const enforced = parts.length === 5 && parts[1] === 'ns' && parts[3] === 'sa' && !principal.startsWith('*');
  if (!enforced) return [principal];
  const domains = [localTrustDomain, ...aliases];
  const td = parts[0]!;
  if (td !== 'cluster.local' && !domains.includes(td)) return [principal];
  const rest = parts.slice(1).join('/');
  return [...new Set(domains.map((d) => `${d}/${rest}`))];
}
