export { PolicyEngine } from './policy-engine.js';
export type { PolicyEngineOptions, PolicyInput } from './policy-engine.js';
export { PolicyError, formatIssue } from './policy-error.js';
export type { PolicyErrorCode, PolicyIssue, PolicyIssueCode } from './policy-error.js';
export type { PolicyWarning } from './issue-collector.js';
export { normalizePath, removeDotSegments } from './normalize-path.js';
export type { NormalizedPath, PathNormalizationOptions } from './normalize-path.js';
export { normalizeHost } from './normalize-host.js';
export { toIstioPrincipal } from './principal.js';
export type { RequestNormalizationOptions } from './request-context.js';
export type { CustomCheck, CustomProvider, CustomVerdict } from './custom-provider.js';
export type { Explanation, PolicyExplanation, RuleExplanation } from './explain.js';
export { loadSources, loadDocuments, parseYamlDocuments } from './load-policies.js';
export type { LoadOptions, LoadResult, PolicyDocument, PolicySource } from './load-policies.js';
export { lintSources } from './lint.js';
export type { LintResult } from './lint.js';
export { serializeCompiled } from './serialize-compiled.js';
export type { MatcherIR, PolicyIR, RuleIR, ValueSetIR } from './policy-ir.js';
export type {
  AuthorizationPolicy,
  Condition,
  Decision,
  DryRunResult,
  EvaluateInput,
  HeaderValue,
  Operation,
  PolicyAction,
  RequestAttributes,
  Rule,
  Source,
  TargetRef,
  WorkloadAttributes,
} from './types.js';
export { DistributedPolicies, type DistributedPolicyState } from './distributed-policies.js';
