import { parseStringPattern, type StringPattern } from './string-pattern.js';

/**
 * `requestPrincipals` and `request.auth.principal` patterns, matched the way
 * Istio ≥ 1.22 compiles them: issuer and subject are matched separately, the
 * pattern split at its last `/` (AUTHZ.md §3.5). A wildcard therefore never
 * crosses the `iss/sub` boundary.
 */
export interface RequestPrincipalPattern {
  readonly iss: StringPattern;
  readonly sub: StringPattern;
}

const ANY: StringPattern = { kind: 'presence' };

export function parseRequestPrincipal(pattern: string): RequestPrincipalPattern {
  const slash = pattern.lastIndexOf('/');
  if (slash === -1) {
    if (pattern === '*') return { iss: ANY, sub: ANY };
    if (pattern.startsWith('*')) return { iss: ANY, sub: { kind: 'suffix', value: pattern.slice(1) } };
    if (pattern.endsWith('*')) return { iss: { kind: 'prefix', value: pattern.slice(0, -1) }, sub: ANY };
    return { iss: { kind: 'exact', value: pattern }, sub: { kind: 'exact', value: '' } };
  }
  return { iss: parseStringPattern(pattern.slice(0, slash)), sub: parseStringPattern(pattern.slice(slash + 1)) };
}
