import type { MatcherIR, PolicyIR, RuleIR } from './policy-ir.js';
import type { RequestContext } from './request-context.js';
import { isExactOnly } from './string-set.js';
import type { Test } from './compile-matcher.js';

/** One rule ready to run, with its global order (policies sorted by namespace/name, then rule index). */
export interface IndexedRule {
  readonly order: number;
  readonly policy: PolicyIR;
  readonly rule: number;
  readonly test: Test;
  /** Decision reasons, built once. */
  readonly allowReason: string;
  readonly denyReason: string;
}

export interface IndexableRule {
  readonly order: number;
  readonly policy: PolicyIR;
  readonly rule: number;
  readonly test: Test;
  readonly ir: RuleIR;
}

/**
 * The rules of one action for one workload, indexed so a request tests only
 * the rules that can match it: a rule that can only match a few exact peer
 * principals (or exact paths) sits in a hash bucket under each; the others
 * are scanned. Lists are in rule order, so the first match is deterministic.
 */
export class RuleIndex {
  readonly size: number;
  readonly #byPrincipal = new Map<string, IndexedRule[]>();
  readonly #byPath = new Map<string, IndexedRule[]>();
  readonly #scan: IndexedRule[] = [];

  constructor(rules: readonly IndexableRule[]) {
    this.size = rules.length;
    const sorted = [...rules].sort((a, b) => a.order - b.order);
    for (const r of sorted) {
      const entry: IndexedRule = {
        order: r.order,
        policy: r.policy,
        rule: r.rule,
        test: r.test,
        allowReason: `matched ALLOW policy ${r.policy.id} rule ${r.rule}`,
        denyReason: `matched DENY policy ${r.policy.id} rule ${r.rule}`,
      };
      const principals = exactKeys(r.ir, 'from', 'source.principal');
      const paths = principals ? null : exactKeys(r.ir, 'to', 'request.path');
      if (principals) for (const k of principals) push(this.#byPrincipal, k, entry);
      else if (paths) for (const k of paths) push(this.#byPath, k, entry);
      else this.#scan.push(entry);
    }
  }

  /** The first rule (in order) that matches, if any. */
  firstMatch(ctx: RequestContext): IndexedRule | undefined {
    let best: IndexedRule | undefined;
    if (this.#byPrincipal.size > 0 && ctx.principal !== undefined) best = firstIn(this.#byPrincipal.get(ctx.principal), ctx, best);
    if (this.#byPath.size > 0 && ctx.path !== undefined) best = firstIn(this.#byPath.get(ctx.path), ctx, best);
    return firstIn(this.#scan, ctx, best);
  }
}

function firstIn(list: readonly IndexedRule[] | undefined, ctx: RequestContext, best: IndexedRule | undefined): IndexedRule | undefined {
  if (list === undefined) return best;
  for (let i = 0; i < list.length; i++) {
    const r = list[i]!;
    if (best !== undefined && r.order >= best.order) return best;
    if (r.test(ctx)) return r;
  }
  return best;
}

function push(map: Map<string, IndexedRule[]>, key: string, rule: IndexedRule): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [rule]);
  else if (list[list.length - 1] !== rule) list.push(rule);
}

/**
 * The exact values a rule needs for an attribute, when every entry of the
 * clause (or a `when` condition) requires one of them; else `null`.
 */
export function exactKeys(rule: RuleIR, clause: 'from' | 'to', attribute: MatcherIR['attribute']): string[] | null {
  const fromWhen = rule.when.find((m) => m.attribute === attribute && m.values?.kind === 'string' && isExactOnly(m.values));
  if (fromWhen && fromWhen.values?.kind === 'string') return [...fromWhen.values.exact];
  const entries = rule[clause];
  if (!entries || entries.length === 0) return null;
  const keys = new Set<string>();
  for (const entry of entries) {
    const m = entry.find((x) => x.attribute === attribute && x.values?.kind === 'string' && isExactOnly(x.values));
    if (!m || m.values?.kind !== 'string') return null;
    for (const v of m.values.exact) keys.add(v);
  }
  return [...keys];
}
