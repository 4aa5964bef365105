import type { CustomProvider } from './custom-provider.js';
import { customMatches, customOutcome, customCheck, decide, runCustomSync } from './decide.js';
import { explainPolicies, type Explanation } from './explain.js';
import type { PolicyWarning } from './issue-collector.js';
import { loadDocuments, loadSources, type LoadOptions, type LoadResult, type PolicyDocument, type PolicySource } from './load-policies.js';
import { PolicyError } from './policy-error.js';
import type { PolicyIR } from './policy-ir.js';
import { PolicySet } from './policy-set.js';
import { RequestContext, type RequestNormalizationOptions } from './request-context.js';
import type { Decision, EvaluateInput } from './types.js';

export interface PolicyEngineOptions extends LoadOptions, RequestNormalizationOptions {
  /** File name used in error messages for `fromYaml` (default `<yaml>`). */
  readonly file?: string;
  /** CUSTOM providers by name; a CUSTOM policy naming a missing one denies what it matches. */
  readonly providers?: Readonly<Record<string, CustomProvider>>;
}

/** Input accepted by `replace`: YAML text, sources (files), or policy objects. */
export type PolicyInput = string | readonly PolicySource[] | readonly unknown[];

/**
 * Istio AuthorizationPolicy, evaluated in-process. Policies are validated
 * and compiled once; `replace` compiles a new set completely before swapping
 * it in with one assignment, so a request sees the old set or the new one,
 * never a mix, and a bad set changes nothing.
 */
export class PolicyEngine {
  readonly #options: PolicyEngineOptions;
  readonly #providers: ReadonlyMap<string, CustomProvider>;
  #set: PolicySet;
  #warnings: readonly PolicyWarning[];

  private constructor(options: PolicyEngineOptions, loaded: LoadResult) {
    this.#options = options;
    this.#providers = new Map(Object.entries(options.providers ?? {}));
    this.#set = new PolicySet(loaded.compiled, options.rootNamespace ?? 'istio-system');
    this.#warnings = loaded.warnings;
  }

  /** Multi-document YAML. Throws `PolicyError` (code `ERR_POLICY_INVALID`) listing every problem. */
  static fromYaml(text: string, options: PolicyEngineOptions = {}): PolicyEngine {
    return new PolicyEngine(options, load(text, options));
  }

  /** Policy objects, as parsed from YAML or JSON. */
  static fromObjects(policies: readonly unknown[], options: PolicyEngineOptions = {}): PolicyEngine {
    return new PolicyEngine(options, load(policies, options));
  }

  /** Several named files, loaded as one set. */
  static fromSources(sources: readonly PolicySource[], options: PolicyEngineOptions = {}): PolicyEngine {
    return new PolicyEngine(options, load(sources, options));
  }

  /** Swaps in a new policy set atomically; on any error throws and keeps the current set. */
  replace(input: PolicyInput): void {
    const loaded = load(input, this.#options);
    const next = new PolicySet(loaded.compiled, this.#options.rootNamespace ?? 'istio-system');
    this.#set = next;
    this.#warnings = loaded.warnings;
  }

  /** The compiled form of the current set (sorted by namespace/name). */
  get policies(): readonly PolicyIR[] {
    return this.#set.policies;
  }

  get warnings(): readonly PolicyWarning[] {
    return this.#warnings;
  }

  evaluate(input: EvaluateInput): Decision {
    const set = this.#set;
    const ctx = this.#context(input);
    if (typeof ctx === 'string') return rejected(ctx);
    const rules = set.applicable(input.workload, ctx.protocol);
    const matches = rules.custom.size > 0 ? customMatches(rules, ctx) : [];
    const denial = matches.length > 0 ? runCustomSync(matches, this.#providers, input, ctx) : null;
    return withNormalized(decide(rules, ctx, denial), ctx);
  }

  /** Like `evaluate`, but awaits asynchronous CUSTOM providers (e.g. an ext_authz call). */
  async evaluateAsync(input: EvaluateInput): Promise<Decision> {
    const set = this.#set;
    const ctx = this.#context(input);
    if (typeof ctx === 'string') return rejected(ctx);
    const rules = set.applicable(input.workload, ctx.protocol);
    for (const match of customMatches(rules, ctx)) {
      const provider = this.#providers.get(match.provider);
      let verdict;
      try {
        verdict = provider ? await provider.check(customCheck(match, input, ctx)) : undefined;
      } catch (err) {
        verdict = err instanceof Error ? err : new Error(String(err));
      }
      const outcome = customOutcome(match, verdict);
      if (outcome) return withNormalized(decide(rules, ctx, outcome), ctx);
    }
    return withNormalized(decide(rules, ctx, null), ctx);
  }

  /** The decision, plus why each policy and rule did or did not match. */
  explain(input: EvaluateInput): Explanation {
    const set = this.#set;
    const decision = this.evaluate(input);
    const ctx = this.#context(input);
    if (typeof ctx === 'string') return { decision, policies: [] };
    return { decision, policies: explainPolicies(set, input.workload, ctx) };
  }

  /**
   * The request as the engine sees it: the normalized path to forward
   * (query kept, fragment dropped), host and method; or why it must get 400.
   */
  normalize(request: EvaluateInput['request']): { ok: true; path?: string; forwardPath?: string; host?: string; method?: string } | { ok: false; status: 400; reason: string } {
    const ctx = RequestContext.build(request, this.#options);
    if (typeof ctx === 'string') return { ok: false, status: 400, reason: ctx };
    return { ok: true, path: ctx.path, forwardPath: ctx.forwardPath, host: ctx.host, method: ctx.method };
  }

  #context(input: EvaluateInput): RequestContext | string {
    if (!input || typeof input.workload?.namespace !== 'string' || typeof input.request !== 'object' || input.request === null) {
      throw new TypeError('evaluate() needs { workload: { namespace, labels? }, request: {...} }');
    }
    return RequestContext.build(input.request, this.#options);
  }
}

function withNormalized(decision: Decision, ctx: RequestContext): Decision {
  decision.normalized = { path: ctx.path, forwardPath: ctx.forwardPath };
  return decision;
}

function rejected(reason: string): Decision {
  return { allowed: false, action: 'DENY', reason: `request refused before authorization: ${reason}`, reject: { status: 400, reason }, audit: false };
}

function load(input: PolicyInput, options: PolicyEngineOptions): LoadResult {
  let loaded: LoadResult;
  if (typeof input === 'string') loaded = loadSources([{ file: options.file ?? '<yaml>', text: input }], options);
  else if (isSources(input)) loaded = loadSources(input, options);
  else {
    if (!Array.isArray(input)) throw new TypeError('policies must be an array');
    const documents: PolicyDocument[] = input.map((value, document) => ({ file: options.file ?? '<objects>', document, value }));
    loaded = loadDocuments(documents, options);
  }
  if (loaded.issues.length > 0) throw PolicyError.fromIssues(loaded.issues);
  return loaded;
}

function isSources(input: readonly unknown[]): input is readonly PolicySource[] {
  return input.length > 0 && input.every((x) => typeof x === 'object' && x !== null && typeof (x as PolicySource).file === 'string' && typeof (x as PolicySource).text === 'string' && !('kind' in x));
}
