import { compileRule } from './compile-matcher.js';
import type { PolicyIR } from './policy-ir.js';
import { RuleIndex, type IndexableRule } from './rule-index.js';
import type { WorkloadAttributes } from './types.js';

/** The rules that apply to one workload at one protocol layer, grouped as the decision needs them. */
export interface ApplicableRules {
  /** Enforced CUSTOM rules, per provider name. */
  readonly custom: ReadonlyMap<string, RuleIndex>;
  readonly deny: RuleIndex;
  readonly allow: RuleIndex;
  /** Number of enforced ALLOW policies (an ALLOW policy with no rules still counts: allow-nothing). */
  readonly allowPolicies: number;
  readonly noAllowMatchReason: string;
  readonly audit: RuleIndex;
  readonly shadowDeny: RuleIndex;
  readonly shadowAllow: RuleIndex;
  readonly shadowAllowPolicies: number;
  readonly hasDryRun: boolean;
}

interface ForWorkload {
  http?: ApplicableRules;
  tcp?: ApplicableRules;
}

const CACHE_LIMIT = 4096;

/**
 * An immutable, compiled policy set. Policies are grouped by namespace; the
 * rules that apply to a workload (root namespace + its namespace, selector
 * subset of its labels) are indexed on first use and cached per workload.
 */
export class PolicySet {
  readonly policies: readonly PolicyIR[];
  readonly rootNamespace: string;
  readonly #byNamespace = new Map<string, PolicyIR[]>();
  readonly #order = new Map<PolicyIR, number>();
  readonly #cache = new Map<string, ForWorkload>();
  /** Fast path: the same labels object seen again, checked against a snapshot so mutation is safe. */
  readonly #byLabels = new WeakMap<object, { namespace: string; snapshot: Array<[string, string]>; entry: ForWorkload }>();

  constructor(policies: readonly PolicyIR[], rootNamespace: string) {
    this.policies = [...policies].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    this.rootNamespace = rootNamespace;
    this.policies.forEach((p, i) => {
      this.#order.set(p, i);
      if (p.targetRefs) return;
      const list = this.#byNamespace.get(p.namespace);
      if (list) list.push(p);
      else this.#byNamespace.set(p.namespace, [p]);
    });
  }

  /** Why a policy does or does not apply to a workload; `null` means it applies. */
  scopeProblem(policy: PolicyIR, workload: WorkloadAttributes): string | null {
    if (policy.targetRefs) return 'has targetRef(s): applies to gateways and waypoints only';
    if (policy.namespace !== this.rootNamespace && policy.namespace !== workload.namespace) {
      return `namespace ${policy.namespace} is neither the workload's (${workload.namespace}) nor the root namespace`;
    }
    if (policy.selector) {
      const labels = workload.labels ?? {};
      for (const [k, v] of Object.entries(policy.selector)) {
        if (labels[k] !== v) return `selector ${k}=${v} does not match the workload labels`;
      }
    }
    return null;
  }

  applicable(workload: WorkloadAttributes, protocol: 'HTTP' | 'TCP'): ApplicableRules {
    const entry = this.#entryFor(workload);
    if (protocol === 'HTTP') return (entry.http ??= this.#build(workload, 'http'));
    return (entry.tcp ??= this.#build(workload, 'tcp'));
  }

  #entryFor(workload: WorkloadAttributes): ForWorkload {
    const labels = workload.labels;
    if (labels) {
      const seen = this.#byLabels.get(labels);
      if (seen !== undefined && seen.namespace === workload.namespace && sameLabels(seen.snapshot, labels)) return seen.entry;
    }
    const key = workloadKey(workload);
    let entry = this.#cache.get(key);
    if (entry === undefined) {
      if (this.#cache.size >= CACHE_LIMIT) this.#cache.clear();
      entry = {};
      this.#cache.set(key, entry);
    }
    if (labels) this.#byLabels.set(labels, { namespace: workload.namespace, snapshot: Object.entries(labels), entry });
    return entry;
  }

  #build(workload: WorkloadAttributes, layer: 'http' | 'tcp'): ApplicableRules {
    const candidates = [...(this.#byNamespace.get(this.rootNamespace) ?? [])];
    if (workload.namespace !== this.rootNamespace) candidates.push(...(this.#byNamespace.get(workload.namespace) ?? []));
    const groups = { deny: [] as IndexableRule[], allow: [] as IndexableRule[], audit: [] as IndexableRule[], shadowDeny: [] as IndexableRule[], shadowAllow: [] as IndexableRule[] };
    const custom = new Map<string, IndexableRule[]>();
    let allowPolicies = 0;
    let shadowAllowPolicies = 0;
    let hasDryRun = false;
    for (const policy of candidates) {
      if (this.scopeProblem(policy, workload) !== null) continue;
      const base = this.#order.get(policy)! * 1024;
      const rules = policy[layer].map((ir) => ({ order: base + ir.rule, policy, rule: ir.rule, test: compileRule(ir), ir }));
      if (policy.dryRun) hasDryRun = true;
      switch (policy.action) {
        case 'ALLOW':
          if (policy.dryRun) {
            shadowAllowPolicies++;
            groups.shadowAllow.push(...rules);
          } else {
            allowPolicies++;
            groups.allow.push(...rules);
          }
          break;
        case 'DENY':
          (policy.dryRun ? groups.shadowDeny : groups.deny).push(...rules);
          break;
        case 'AUDIT':
          groups.audit.push(...rules);
          break;
        case 'CUSTOM': {
          const name = policy.provider ?? '';
          custom.set(name, [...(custom.get(name) ?? []), ...rules]);
          break;
        }
      }
    }
    return {
      custom: new Map([...custom].map(([name, rules]) => [name, new RuleIndex(rules)])),
      deny: new RuleIndex(groups.deny),
      allow: new RuleIndex(groups.allow),
      allowPolicies,
      noAllowMatchReason: `no ALLOW policy matched (${allowPolicies} apply)`,
      audit: new RuleIndex(groups.audit),
      shadowDeny: new RuleIndex(groups.shadowDeny),
      shadowAllow: new RuleIndex(groups.shadowAllow),
      shadowAllowPolicies,
      hasDryRun,
    };
  }
}

/** Namespace plus labels in insertion order: equal label sets in another order only cost an extra cache entry. */
function workloadKey(workload: WorkloadAttributes): string {
  let key = workload.namespace;
  const labels = workload.labels;
  if (labels) for (const k in labels) key += `\u0000${k}=${labels[k]}`;
  return key;
}

function sameLabels(snapshot: ReadonlyArray<[string, string]>, labels: Readonly<Record<string, string>>): boolean {
  let count = 0;
  for (const k in labels) {
    const at = snapshot[count];
    if (at === undefined || at[0] !== k || at[1] !== labels[k]) return false;
    count++;
  }
  return count === snapshot.length;
}
