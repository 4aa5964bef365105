import type { EvaluateInput } from './types.js';

/** What a CUSTOM provider is asked: the request (with its normalized path) and the policy rule that sent it. */
export interface CustomCheck {
  readonly provider: string;
  readonly policy: string;
  readonly rule: number;
  readonly input: EvaluateInput;
  /** The normalized path the proxy forwards (with query), for HTTP checks. */
  readonly forwardPath: string | undefined;
}

export type CustomVerdict = boolean | { readonly allowed: boolean; readonly reason?: string };

/**
 * An external authorizer for CUSTOM policies (Istio's extension providers,
 * e.g. ext_authz). It runs only when a CUSTOM rule matches, and can only
 * add a denial: it never overrides DENY or ALLOW policies. A provider that
 * throws, or is not configured, denies (fail closed).
 */
export interface CustomProvider {
  check(request: CustomCheck): CustomVerdict | Promise<CustomVerdict>;
}
