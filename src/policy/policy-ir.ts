import type { AttributeId } from './attributes.js';
import type { StringSetIR } from './string-set.js';
import type { PolicyAction } from './types.js';

/**
 * The compiled form of a policy set, as plain data. It is what golden files
 * record, what `explain` describes, and what `compile-matcher.ts` turns into
 * closures. Everything per-request-invariant is resolved here: wildcards
 * classified, hosts canonicalized, CIDRs masked, trust-domain aliases
 * expanded, bare service accounts qualified, the TCP rewrite applied.
 */

export type ValueSetIR =
  | StringSetIR
  | { readonly kind: 'cidr'; readonly cidrs: readonly string[] }
  | { readonly kind: 'port'; readonly ports: readonly number[] }
  /** `ns/sa` pairs, exact. */
  | { readonly kind: 'serviceAccount'; readonly accounts: readonly string[] }
  /** JWT `iss/sub` patterns, split at the last `/`. */
  | { readonly kind: 'requestPrincipal'; readonly patterns: readonly string[] };

export interface MatcherIR {
  readonly attribute: AttributeId;
  /** Lower-cased header name for `request.headers`. */
  readonly header?: string;
  /** Claim path for `request.auth.claims`. */
  readonly claim?: readonly string[];
  readonly values?: ValueSetIR;
  readonly notValues?: ValueSetIR;
  /** Where it was written, e.g. `from[0].source.principals` or `when[1]`. */
  readonly field: string;
}

export interface RuleIR {
  readonly rule: number;
  /** OR over entries, AND inside an entry; `null` when the rule has no `from`. */
  readonly from: readonly (readonly MatcherIR[])[] | null;
  readonly to: readonly (readonly MatcherIR[])[] | null;
  /** ANDed. */
  readonly when: readonly MatcherIR[];
}

export interface PolicyIR {
  /** `namespace/name`. */
  readonly id: string;
  readonly namespace: string;
  readonly name: string;
  readonly action: PolicyAction;
  readonly provider?: string;
  readonly dryRun: boolean;
  readonly selector: Readonly<Record<string, string>> | null;
  /** Policies with targetRef(s) never apply to meshward workloads. */
  readonly targetRefs: boolean;
  /** Rules for per-request (HTTP) checks; `[]` matches nothing. */
  readonly http: readonly RuleIR[];
  /** Rules for per-connection (TCP) checks, after the AUTHZ.md §5 rewrite. */
  readonly tcp: readonly RuleIR[];
  /** ALLOW rules dropped from `tcp` because they use HTTP-only fields. */
  readonly tcpDropped: readonly number[];
}
