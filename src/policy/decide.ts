import type { CustomCheck, CustomProvider, CustomVerdict } from './custom-provider.js';
import type { ApplicableRules } from './policy-set.js';
import type { IndexedRule } from './rule-index.js';
import type { RequestContext } from './request-context.js';
import type { Decision, DryRunResult, EvaluateInput } from './types.js';

/**
 * The decision algorithm of AUTHZ.md §4.2, in Envoy's filter order:
 * CUSTOM, then DENY, then ALLOW (with default-deny once any enforced ALLOW
 * policy applies); AUDIT only marks. Dry-run policies are evaluated beside
 * the enforced ones and reported in `dryRun`, never enforced.
 */

/** The CUSTOM step's outcome: `null` when no provider denied. */
type CustomOutcome = Decision | null;

export interface CustomMatch {
  readonly provider: string;
  readonly rule: IndexedRule;
}

/** Which CUSTOM providers must be asked, with the first matching rule for each. */
export function customMatches(rules: ApplicableRules, ctx: RequestContext): CustomMatch[] {
  const out: CustomMatch[] = [];
  for (const [provider, index] of rules.custom) {
    const rule = index.firstMatch(ctx);
    if (rule) out.push({ provider, rule });
  }
  return out;
}

export function customCheck(match: CustomMatch, input: EvaluateInput, ctx: RequestContext): CustomCheck {
  return { provider: match.provider, policy: match.rule.policy.id, rule: match.rule.rule, input, forwardPath: ctx.forwardPath };
}

/** Turns one provider answer (or failure) into a denial, or `null` to go on. */
export function customOutcome(match: CustomMatch, verdict: CustomVerdict | Error | undefined): CustomOutcome {
  const where = { policy: match.rule.policy.id, rule: match.rule.rule };
  if (verdict === undefined) return deny(where, `CUSTOM provider "${match.provider}" is not configured (fail closed)`);
  if (verdict instanceof Error) return deny(where, `CUSTOM provider "${match.provider}" failed: ${verdict.message} (fail closed)`);
  const allowed = typeof verdict === 'boolean' ? verdict : verdict.allowed === true;
  if (allowed) return null;
  const why = typeof verdict === 'object' && verdict.reason ? `: ${verdict.reason}` : '';
  return deny(where, `denied by CUSTOM provider "${match.provider}"${why}`);
}

/** Runs the CUSTOM step with synchronous providers; a provider returning a promise denies. */
export function runCustomSync(matches: CustomMatch[], providers: ReadonlyMap<string, CustomProvider>, input: EvaluateInput, ctx: RequestContext): CustomOutcome {
  for (const match of matches) {
    const provider = providers.get(match.provider);
    let verdict: CustomVerdict | Error | undefined;
    if (provider) {
      try {
        const answer = provider.check(customCheck(match, input, ctx));
        verdict = isPromise(answer) ? new Error('provider is asynchronous; use evaluateAsync()') : answer;
        if (isPromise(answer)) answer.then(undefined, () => undefined);
      } catch (err) {
        verdict = err instanceof Error ? err : new Error(String(err));
      }
    }
    const outcome = customOutcome(match, verdict);
    if (outcome) return outcome;
  }
  return null;
}

function isPromise(v: unknown): v is Promise<CustomVerdict> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

const NO_ALLOW_POLICY = 'no ALLOW policy applies to the workload';

/** DENY, then ALLOW, then AUDIT and dry-run; `customDenial` short-circuits the enforced result. */
export function decide(rules: ApplicableRules, ctx: RequestContext, customDenial: CustomOutcome): Decision {
  const denied = customDenial === null ? rules.deny.firstMatch(ctx) : undefined;
  let decision: Decision;
  let allowMatch: IndexedRule | undefined;
  if (customDenial) decision = customDenial;
  else if (denied) decision = { allowed: false, action: 'DENY', policy: denied.policy.id, rule: denied.rule, reason: denied.denyReason };
  else if (rules.allowPolicies === 0) decision = { allowed: true, action: 'ALLOW', reason: NO_ALLOW_POLICY };
  else if ((allowMatch = rules.allow.firstMatch(ctx))) {
    decision = { allowed: true, action: 'ALLOW', policy: allowMatch.policy.id, rule: allowMatch.rule, reason: allowMatch.allowReason };
  } else {
    decision = { allowed: false, action: 'DENY', reason: rules.noAllowMatchReason };
  }
  if (rules.audit.size > 0) {
    const audited = rules.audit.firstMatch(ctx);
    decision.audit = audited !== undefined;
    if (audited) decision.auditPolicy = audited.policy.id;
  } else {
    decision.audit = false;
  }
  if (rules.hasDryRun) decision.dryRun = shadow(rules, ctx, decision, denied, allowMatch);
  return decision;
}

/** The decision as if the dry-run policies were enforced; a dry-run policy is named when one decided. */
function shadow(rules: ApplicableRules, ctx: RequestContext, enforced: Decision, denied: IndexedRule | undefined, allowMatch: IndexedRule | undefined): DryRunResult {
  if (!enforced.allowed && enforced.policy !== undefined && !denied) return pick(enforced);
  const shadowDenied = rules.shadowDeny.firstMatch(ctx);
  if (shadowDenied) return { allowed: false, action: 'DENY', ...ruleOf(shadowDenied), reason: `dry-run DENY policy ${shadowDenied.policy.id} rule ${shadowDenied.rule} would deny` };
  if (denied) return pick(enforced);
  const allowPolicies = rules.allowPolicies + rules.shadowAllowPolicies;
  if (allowPolicies === 0) return { allowed: true, action: 'ALLOW', reason: 'no ALLOW policy applies, dry-run included' };
  const shadowAllowed = rules.shadowAllow.firstMatch(ctx);
  if (shadowAllowed) return { allowed: true, action: 'ALLOW', ...ruleOf(shadowAllowed), reason: `dry-run ALLOW policy ${shadowAllowed.policy.id} rule ${shadowAllowed.rule} would allow` };
  const match = allowMatch ?? (rules.allowPolicies > 0 ? rules.allow.firstMatch(ctx) : undefined);
  if (match) return { allowed: true, action: 'ALLOW', ...ruleOf(match), reason: `matched ALLOW policy ${match.policy.id} rule ${match.rule}` };
  return { allowed: false, action: 'DENY', reason: `no ALLOW policy matched, dry-run included (${allowPolicies} apply)` };
}

function pick(d: Decision): DryRunResult {
  return { allowed: d.allowed, action: d.action, ...(d.policy !== undefined ? { policy: d.policy, rule: d.rule! } : {}), reason: d.reason };
}

function ruleOf(r: IndexedRule): { policy: string; rule: number } {
  return { policy: r.policy.id, rule: r.rule };
}

function deny(where: { policy?: string; rule?: number }, reason: string): Decision {
  return { allowed: false, action: 'DENY', ...where, reason };
}
