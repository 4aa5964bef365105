import { PolicyEngine, type PolicyEngineOptions } from '../../src/policy/index.js';
import type { EvaluateInput, RequestAttributes, WorkloadAttributes } from '../../src/policy/index.js';

/** An AuthorizationPolicy object with the given spec. */
export function policy(name: string, spec: Record<string, unknown>, opts: { namespace?: string; annotations?: Record<string, string> } = {}): Record<string, unknown> {
  return {
    apiVersion: 'security.istio.io/v1',
    kind: 'AuthorizationPolicy',
    metadata: { name, namespace: opts.namespace ?? 'foo', ...(opts.annotations ? { annotations: opts.annotations } : {}) },
    spec,
  };
}

export function engine(policies: Array<Record<string, unknown>>, options: PolicyEngineOptions = {}): PolicyEngine {
  return PolicyEngine.fromObjects(policies, options);
}

export const WORKLOAD: WorkloadAttributes = { namespace: 'foo', labels: { app: 'httpbin', version: 'v1' } };

/** An mTLS HTTP GET / from cluster.local/ns/bar/sa/sleep, overridable field by field. */
export function request(over: Partial<RequestAttributes> = {}): RequestAttributes {
  return {
    principal: 'cluster.local/ns/bar/sa/sleep',
    method: 'GET',
    path: '/',
    host: 'httpbin.foo',
    port: 8000,
    headers: {},
    sourceIp: '10.0.0.5',
    destinationIp: '10.0.1.1',
    jwtClaims: null,
    protocol: 'HTTP',
    ...over,
  };
}

export function input(over: Partial<RequestAttributes> = {}, workload: WorkloadAttributes = WORKLOAD): EvaluateInput {
  return { workload, request: request(over) };
}
