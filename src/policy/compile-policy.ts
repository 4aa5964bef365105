import { ATTRIBUTES, OPERATION_FIELDS, SOURCE_FIELDS, negated, parseConditionKey, type AttributeId } from './attributes.js';
import { formatCidr, parseCidr } from './ip-address.js';
import { normalizeHostPattern } from './normalize-host.js';
import type { MatcherIR, PolicyIR, RuleIR, ValueSetIR } from './policy-ir.js';
import { expandTrustDomainAliases } from './principal.js';
import { buildStringSet } from './string-set.js';
import type { AuthorizationPolicy, Condition, Rule } from './types.js';
import { isDryRun } from './validate-policy.js';

export interface CompileOptions {
  /** The mesh trust domain (default `cluster.local`); `cluster.local` in policies always means it. */
  readonly trustDomain?: string;
  readonly trustDomainAliases?: readonly string[];
}

/** Turns one validated policy into its compiled data form. */
export function compilePolicy(policy: AuthorizationPolicy, options: CompileOptions = {}): PolicyIR {
  const namespace = policy.metadata.namespace!;
  const action = policy.spec.action ?? 'ALLOW';
  const scope = { namespace, trustDomain: options.trustDomain ?? 'cluster.local', aliases: options.trustDomainAliases ?? [] };
  const http = (policy.spec.rules ?? []).map((rule, i) => compileRule(rule, i, scope));
  const tcpDropped: number[] = [];
  const tcp: RuleIR[] = [];
  for (const rule of http) {
    if (action === 'ALLOW') {
      // An ALLOW rule that needs HTTP attributes cannot be proven on a connection: drop it whole.
      if (usesHttpOnly(rule)) tcpDropped.push(rule.rule);
      else tcp.push(rule);
    } else {
      // DENY, AUDIT and CUSTOM ignore HTTP-only parts, so they get wider, never narrower.
      tcp.push(withoutHttpOnly(rule));
    }
  }
  const labels = policy.spec.selector?.matchLabels;
  return {
    id: `${namespace}/${policy.metadata.name}`,
    namespace,
    name: policy.metadata.name,
    action,
    ...(policy.spec.provider ? { provider: policy.spec.provider.name } : {}),
    dryRun: isDryRun(policy),
    selector: labels && Object.keys(labels).length > 0 ? { ...labels } : null,
    targetRefs: policy.spec.targetRef !== undefined || policy.spec.targetRefs !== undefined,
    http,
    tcp,
    tcpDropped,
  };
}

interface Scope {
  readonly namespace: string;
  readonly trustDomain: string;
  readonly aliases: readonly string[];
}

function compileRule(rule: Rule, index: number, scope: Scope): RuleIR {
  const from = rule.from?.map((entry, i) => compileFields(entry.source as Record<string, string[] | undefined>, SOURCE_FIELDS, `from[${i}].source`, scope));
  const to = rule.to?.map((entry, i) => compileFields(entry.operation as Record<string, string[] | undefined>, OPERATION_FIELDS, `to[${i}].operation`, scope));
  const when = (rule.when ?? []).map((c, i) => compileCondition(c, `when[${i}]`, scope));
  return { rule: index, from: from ?? null, to: to ?? null, when: when.filter((m): m is MatcherIR => m !== null) };
}

function compileFields(body: Record<string, string[] | undefined>, fields: Readonly<Record<string, AttributeId>>, path: string, scope: Scope): MatcherIR[] {
  const out: MatcherIR[] = [];
  for (const [field, attribute] of Object.entries(fields)) {
    const values = nonEmpty(body[field]);
    const notValues = nonEmpty(body[negated(field)]);
    if (!values && !notValues) continue;
    out.push({
      attribute,
      ...(values ? { values: valueSet(attribute, values, scope) } : {}),
      ...(notValues ? { notValues: valueSet(attribute, notValues, scope) } : {}),
      field: values ? `${path}.${field}` : `${path}.${negated(field)}`,
    });
  }
  return out;
}

function compileCondition(c: Condition, path: string, scope: Scope): MatcherIR | null {
  const key = parseConditionKey(c.key);
  if (typeof key === 'string') throw new Error(`unreachable: validated key ${c.key}`);
  const values = nonEmpty(c.values);
  const notValues = nonEmpty(c.notValues);
  if (!values && !notValues) return null;
  return {
    attribute: key.attribute,
    ...(key.header ? { header: key.header } : {}),
    ...(key.claim ? { claim: key.claim } : {}),
    ...(values ? { values: valueSet(key.attribute, values, scope, key.header !== undefined) } : {}),
    ...(notValues ? { notValues: valueSet(key.attribute, notValues, scope, key.header !== undefined) } : {}),
    field: `${path} ${c.key}`,
  };
}

/** An empty list means "not set" (Istio's insertFront skips it). */
function nonEmpty(list: readonly string[] | undefined): readonly string[] | undefined {
  return list && list.length > 0 ? list : undefined;
}

function valueSet(attribute: AttributeId, values: readonly string[], scope: Scope, isHeader = false): ValueSetIR {
  switch (ATTRIBUTES[attribute].form) {
    case 'cidr':
      return { kind: 'cidr', cidrs: [...new Set(values.map((v) => formatCidr(parseCidr(v)!)))] };
    case 'port':
      return { kind: 'port', ports: [...new Set(values.map(Number))].sort((a, b) => a - b) };
    case 'serviceAccount':
      return { kind: 'serviceAccount', accounts: [...new Set(values.map((v) => (v.includes('/') ? v : `${scope.namespace}/${v}`)))].sort() };
    case 'requestPrincipal':
      return { kind: 'requestPrincipal', patterns: [...new Set(values)].sort() };
    case 'string':
      if (attribute === 'source.principal') {
        return buildStringSet(values.flatMap((v) => expandTrustDomainAliases(v, scope.trustDomain, scope.aliases)));
      }
      if (attribute === 'request.host') return buildStringSet(values.map(normalizeHostPattern));
      if (attribute === 'request.path') return buildStringSet(values, { templates: true });
      return buildStringSet(values, { exists: isHeader });
  }
}

function isHttpOnly(m: MatcherIR): boolean {
  return ATTRIBUTES[m.attribute].httpOnly;
}

function usesHttpOnly(rule: RuleIR): boolean {
  const all = [...(rule.from ?? []).flat(), ...(rule.to ?? []).flat(), ...rule.when];
  return all.some(isHttpOnly);
}

function withoutHttpOnly(rule: RuleIR): RuleIR {
  return {
    rule: rule.rule,
    from: rule.from && rule.from.map((entry) => entry.filter((m) => !isHttpOnly(m))),
    to: rule.to && rule.to.map((entry) => entry.filter((m) => !isHttpOnly(m))),
    when: rule.when.filter((m) => !isHttpOnly(m)),
  };
}
