import { compileMatcher } from './compile-matcher.js';
import type { MatcherIR, PolicyIR, RuleIR, ValueSetIR } from './policy-ir.js';
import type { PolicySet } from './policy-set.js';
import type { RequestContext } from './request-context.js';
import type { Decision, WorkloadAttributes } from './types.js';

/** Why each policy and rule did or did not match one request; for `meshward policy explain`. */
export interface Explanation {
  readonly decision: Decision;
  readonly policies: readonly PolicyExplanation[];
}

export interface PolicyExplanation {
  readonly policy: string;
  readonly action: PolicyIR['action'];
  readonly dryRun: boolean;
  /** `null` when the policy applies to the workload; else why not. */
  readonly notApplicable: string | null;
  readonly rules: readonly RuleExplanation[];
}

export interface RuleExplanation {
  readonly rule: number;
  readonly matched: boolean;
  /** Why the rule did not match, or that it did. */
  readonly reason: string;
}

export function explainPolicies(set: PolicySet, workload: WorkloadAttributes, ctx: RequestContext): PolicyExplanation[] {
  return set.policies.map((policy) => {
    const notApplicable = set.scopeProblem(policy, workload);
    const rules = notApplicable ? [] : explainRules(policy, ctx);
    return { policy: policy.id, action: policy.action, dryRun: policy.dryRun, notApplicable, rules };
  });
}

function explainRules(policy: PolicyIR, ctx: RequestContext): RuleExplanation[] {
  const layer = ctx.protocol === 'TCP' ? policy.tcp : policy.http;
  const out: RuleExplanation[] = layer.map((rule) => {
    const why = ruleMismatch(rule, ctx);
    return { rule: rule.rule, matched: why === null, reason: why ?? 'matched' };
  });
  if (ctx.protocol === 'TCP') {
    for (const rule of policy.tcpDropped) out.push({ rule, matched: false, reason: 'ALLOW rule uses HTTP-only fields: ignored for TCP' });
    out.sort((a, b) => a.rule - b.rule);
  }
  if (policy.http.length === 0) out.push({ rule: -1, matched: false, reason: 'the policy has no rules: it matches nothing' });
  return out;
}

function ruleMismatch(rule: RuleIR, ctx: RequestContext): string | null {
  if (rule.from) {
    const whys = rule.from.map((entry) => entryMismatch(entry, ctx));
    if (whys.every((w) => w !== null)) return `no from entry matched: ${whys.join('; ')}`;
  }
  if (rule.to) {
    const whys = rule.to.map((entry) => entryMismatch(entry, ctx));
    if (whys.every((w) => w !== null)) return `no to entry matched: ${whys.join('; ')}`;
  }
  return entryMismatch(rule.when, ctx);
}

function entryMismatch(entry: readonly MatcherIR[], ctx: RequestContext): string | null {
  for (const m of entry) if (!compileMatcher(m)(ctx)) return describeMismatch(m, ctx);
  return null;
}

function describeMismatch(m: MatcherIR, ctx: RequestContext): string {
  const actual = actualValue(m, ctx);
  const shown = actual === undefined ? 'missing' : JSON.stringify(actual);
  if (actual !== undefined && m.values && m.notValues) {
    return `${m.field}: ${m.attribute} ${shown} is not in ${describeSet(m.values)} or is in ${describeSet(m.notValues)}`;
  }
  if (m.values) return `${m.field}: ${m.attribute} ${shown} is not in ${describeSet(m.values)}`;
  return `${m.field}: ${m.attribute} ${shown} is in ${describeSet(m.notValues!)}`;
}

function actualValue(m: MatcherIR, ctx: RequestContext): unknown {
  switch (m.attribute) {
    case 'source.principal':
    case 'source.serviceAccount':
      return ctx.principal;
    case 'source.namespace':
      return ctx.peerNamespace;
    case 'source.trustDomain':
      return ctx.peerTrustDomain;
    case 'source.ip':
      return ipText(ctx, 'source');
    case 'remote.ip':
      return ipText(ctx, 'remote');
    case 'destination.ip':
      return ipText(ctx, 'destination');
    case 'destination.port':
      return ctx.port;
    case 'connection.sni':
      return ctx.sni;
    case 'request.host':
      return ctx.host;
    case 'request.method':
      return ctx.method;
    case 'request.path':
      return ctx.path;
    case 'request.headers':
      return ctx.header(m.header!);
    case 'request.auth.principal': {
      const p = ctx.jwtPrincipal;
      return p ? `${p.iss}/${p.sub}` : undefined;
    }
    case 'request.auth.audiences':
      return ctx.claim(['aud']);
    case 'request.auth.presenter':
      return ctx.claim(['azp']);
    case 'request.auth.claims':
      return ctx.claim(m.claim!);
  }
}

function ipText(ctx: RequestContext, which: 'source' | 'remote' | 'destination'): string | undefined {
  return ctx.ipText(which);
}

function describeSet(set: ValueSetIR): string {
  switch (set.kind) {
    case 'string': {
      const parts = [...set.exact, ...set.prefix.map((p) => `${p}*`), ...set.suffix.map((s) => `*${s}`), ...set.templates];
      if (set.presence) parts.push('*');
      return JSON.stringify(parts);
    }
    case 'cidr':
      return JSON.stringify(set.cidrs);
    case 'port':
      return JSON.stringify(set.ports);
    case 'serviceAccount':
      return JSON.stringify(set.accounts);
    case 'requestPrincipal':
      return JSON.stringify(set.patterns);
  }
}
