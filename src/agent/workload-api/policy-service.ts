/**
 * `meshward.policy.v1.PolicyDistribution` (proto/meshward_policy.proto): the
 * authorization policies the agent synced from the server, streamed to the
 * enforcers (proxies, SDK middleware) on the same socket as the Workload API.
 * A separate service because `SpiffeWorkloadAPI` must not be extended.
 *
 * Same rules as the Workload API: the security header (checked by the
 * server's precheck), the per-uid rate limit, attestation by the
 * connection's peer credentials, and the caller must hold at least one
 * identity (PermissionDenied otherwise: an enforcer is a workload). The
 * stream sends the cached set at once, then a new snapshot whenever the
 * agent learns a new revision; identical consecutive sets are not sent.
 * The agent does not validate documents: enforcers do, and fail closed.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import type { ConnectedPeer } from '../attestors/attest-caller.js';
import type { AgentPolicies } from '../svid-cache.js';
import type { CallContext, MethodTable } from './grpc-server.js';
import { GrpcCallError, GrpcStatus } from './grpc-status.js';
import type { WorkloadApiDeps } from './handlers.js';
import { CallRunner } from './call-runner.js';

export const POLICY_SERVICE_NAME = 'meshward.policy.v1.PolicyDistribution';
export const WATCH_POLICIES_PATH = `/${POLICY_SERVICE_NAME}/WatchPolicies`;

/** proto/meshward_policy.proto from src/agent/workload-api (tsx) or dist/agent/workload-api (built). */
export function policyProtoPath(): string {
  for (const rel of ['../../../proto/meshward_policy.proto', '../../../../proto/meshward_policy.proto']) {
    const p = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(p)) return p;
  }
  throw new Error('proto/meshward_policy.proto not found next to the package');
}

let types: { request: protobuf.Type; set: protobuf.Type } | undefined;
function policyTypes(): { request: protobuf.Type; set: protobuf.Type } {
  if (types === undefined) {
    const root = new protobuf.Root().loadSync(policyProtoPath(), { keepCase: true });
    types = { request: root.lookupType('meshward.policy.v1.WatchPoliciesRequest'), set: root.lookupType('meshward.policy.v1.PolicySet') };
  }
  return types;
}

/** The cached policies as one PolicySet message. */
export function encodePolicySet(p: AgentPolicies): Uint8Array {
  const t = policyTypes().set;
  const policies = p.policies.map((x) => ({
    namespace: String(x.namespace ?? ''),
    name: String(x.name ?? ''),
    document: typeof x.document === 'string' ? x.document : JSON.stringify(x.document ?? null),
  }));
  return t.encode(t.fromObject({ revision: p.revision, policies })).finish();
}

const NO_IDENTITY = 'no identity issued';

export function policyDistributionMethods(deps: WorkloadApiDeps, options: { runner?: CallRunner } = {}): MethodTable<ConnectedPeer> {
  const { cache } = deps;
  const { request: requestType } = policyTypes();

  const runner = options.runner ?? new CallRunner(deps);

  let encoded: { revision: string; bytes: Uint8Array } | undefined;
  const snapshot = (selectors: ReadonlySet<string>): Uint8Array | 'wait' => {
    if (!cache.ready) return 'wait';
    if (cache.match(selectors).length === 0) throw new GrpcCallError(GrpcStatus.PERMISSION_DENIED, NO_IDENTITY);
    const policies = cache.policies;
    if (policies.revision === '') return 'wait'; // not synced yet: an empty set is not "no policies"
    if (encoded?.revision !== policies.revision) encoded = { revision: policies.revision, bytes: encodePolicySet(policies) };
    return encoded.bytes;
  };

  const handler = async (request: Buffer, call: CallContext<ConnectedPeer>, send: (m: Uint8Array) => void): Promise<void> => {
    try {
      requestType.decode(request);
    } catch {
      throw new GrpcCallError(GrpcStatus.INVALID_ARGUMENT, 'malformed request message');
    }
    await runner.stream(call, send, await runner.attest(call), snapshot, { events: ['change', 'policies'] });
  };

  const counted = async (request: Buffer, call: CallContext<ConnectedPeer>, send: (m: Uint8Array) => void): Promise<void> => {
    try {
      await handler(request, call, send);
      deps.metrics?.countCall('WatchPolicies', 'OK');
    } catch (err) {
      deps.metrics?.countCall('WatchPolicies', err instanceof GrpcCallError ? codeName(err.status) : 'INTERNAL');
      throw err;
    }
  };

  return { [WATCH_POLICIES_PATH]: { kind: 'server-stream', handler: counted } };
}

const CODE_NAMES = new Map<number, string>(Object.entries(GrpcStatus).map(([k, v]) => [v, k]));
function codeName(code: number): string {
  return CODE_NAMES.get(code) ?? String(code);
}
