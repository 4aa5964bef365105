/**
 * The policy set an enforcer (proxy, SDK middleware) receives from the
 * control plane. The server refuses invalid policies, so an invalid set here
 * means something upstream is wrong (version skew, tampering): the enforcer
 * then **fails closed** — every request is denied, with the reason — until a
 * valid set arrives. It never keeps enforcing a stale set silently, and it
 * never allows what it cannot evaluate (SECURITY-CASES 54).
 */
import { PolicyEngine, type PolicyEngineOptions, type PolicyInput } from './policy-engine.js';
import { PolicyError } from './policy-error.js';
import type { Decision, EvaluateInput } from './types.js';

export type DistributedPolicyState =
  | { readonly status: 'waiting' }
  | { readonly status: 'enforcing'; readonly revision: string }
  | { readonly status: 'failed-closed'; readonly revision: string; readonly error: string };

export class DistributedPolicies {
  readonly #engine: PolicyEngine;
  #state: DistributedPolicyState = { status: 'waiting' };

  constructor(options: PolicyEngineOptions = {}) {
    this.#engine = PolicyEngine.fromObjects([], options);
  }

  /** Applies a policy set received from the control plane, labelled with its revision. */
  apply(input: PolicyInput, revision: string): DistributedPolicyState {
    try {
      this.#engine.replace(input);
      this.#state = { status: 'enforcing', revision };
    } catch (err) {
      const message = err instanceof PolicyError ? err.message : `unexpected error: ${(err as Error).message}`;
      this.#state = { status: 'failed-closed', revision, error: message };
    }
    return this.#state;
  }

  get state(): DistributedPolicyState {
    return this.#state;
  }

  /** Until a valid set has arrived, and whenever the latest set was invalid, everything is denied. */
  evaluate(input: EvaluateInput): Decision {
    const state = this.#state;
    if (state.status === 'enforcing') return this.#engine.evaluate(input);
    const reason = state.status === 'waiting' ? 'no policy set received from the control plane yet' : `the policy set of revision ${state.revision} is invalid (${state.error})`;
    return { allowed: false, action: 'DENY', reason: `fail closed: ${reason}`, audit: false };
  }

  get engine(): PolicyEngine {
    return this.#engine;
  }
}
