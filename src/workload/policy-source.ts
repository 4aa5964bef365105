/**
 * The enforcer's side of policy distribution: a client of the agent's
 * `meshward.policy.v1.PolicyDistribution` service (proto/meshward_policy.proto,
 * on the Workload API socket) feeding a `DistributedPolicies`.
 *
 * - `watchPolicies(address, onSet)`: the raw stream; every call carries
 *   `workload.spiffe.io: true`; re-established after any ending with an
 *   exponential backoff 1 s → 30 s (reset by a message).
 * - `PolicySource.create({ address })`: the stream applied to a
 *   `DistributedPolicies`. It denies everything until the first set
 *   arrives, and whenever the latest set is invalid (failed closed, with the
 *   reason); a valid set later restores enforcement. When the agent goes
 *   away the last set stays in force while the stream is re-established.
 */
import { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { DistributedPolicies, type DistributedPolicyState } from '../policy/distributed-policies.js';
import type { PolicyEngineOptions } from '../policy/policy-engine.js';
import type { Decision, EvaluateInput } from '../policy/types.js';
import { resolveWorkloadEndpoint, type WorkloadEndpoint } from './endpoint.js';
import { WorkloadError } from './errors.js';
import { sdkLogger, type WorkloadLogger } from './logger.js';

export const POLICY_PROTO_PATH = fileURLToPath(new URL('../../proto/meshward_policy.proto', import.meta.url));
const SECURITY_HEADER = 'workload.spiffe.io';

export interface DistributedPolicy {
  readonly namespace: string;
  readonly name: string;
  /** One AuthorizationPolicy as YAML text. */
  readonly document: string;
}

export interface DistributedPolicySet {
  readonly revision: string;
  readonly policies: readonly DistributedPolicy[];
}

let clientConstructor: grpc.ServiceClientConstructor | undefined;

/** The generic grpc-js client of `meshward.policy.v1.PolicyDistribution`. */
export function policyDistributionClient(): grpc.ServiceClientConstructor {
  if (clientConstructor === undefined) {
    const def = protoLoader.loadSync(POLICY_PROTO_PATH, { keepCase: true, longs: String, enums: String, defaults: true });
    const pkg = grpc.loadPackageDefinition(def) as unknown as { meshward: { policy: { v1: { PolicyDistribution: grpc.ServiceClientConstructor } } } };
    clientConstructor = pkg.meshward.policy.v1.PolicyDistribution;
  }
  return clientConstructor;
}

export interface WatchPoliciesOptions {
  readonly logger?: WorkloadLogger;
  /** First retry delay, ms (default 1000); doubles up to `maxBackoffMs`. */
  readonly initialBackoffMs?: number;
  /** Retry delay cap, ms (default 30000). */
  readonly maxBackoffMs?: number;
  /** Every stream ending (the watch retries after each). */
  readonly onError?: (error: WorkloadError) => void;
}

export interface PolicyWatch {
  close(): void;
}

/** Streams the agent's policy sets to `onSet` until closed. `address`: `unix:///path`, `tcp://IP:port`, or undefined for SPIFFE_ENDPOINT_SOCKET. */
export function watchPolicies(address: string | undefined, onSet: (set: DistributedPolicySet) => void, options: WatchPoliciesOptions = {}): PolicyWatch {
  const endpoint: WorkloadEndpoint = resolveWorkloadEndpoint(address);
  const log = sdkLogger(options.logger);
  const initial = options.initialBackoffMs ?? 1000;
  const max = options.maxBackoffMs ?? 30_000;
  if (!(initial > 0) || !(max >= initial)) throw new RangeError('backoff: initialBackoffMs must be > 0 and maxBackoffMs >= initialBackoffMs');
  const Client = policyDistributionClient();
  const client = new Client(endpoint.target, grpc.credentials.createInsecure(), {
    'grpc.initial_reconnect_backoff_ms': Math.min(initial, 1000),
    'grpc.max_reconnect_backoff_ms': max,
    'grpc.enable_retries': 0,
    'grpc.default_authority': 'localhost',
  }) as unknown as grpc.Client & { WatchPolicies(req: object, md: grpc.Metadata): grpc.ClientReadableStream<unknown> };

  let stopped = false;
  let delay = initial;
  let timer: NodeJS.Timeout | undefined;
  let call: grpc.ClientReadableStream<unknown> | undefined;

  const retry = (): void => {
    if (stopped) return;
    const wait = delay;
    delay = Math.min(delay * 2, max);
    log.debug({ delayMs: wait }, 'policy stream will be re-established');
    timer = setTimeout(start, wait);
    timer.unref?.();
  };

  function start(): void {
    if (stopped) return;
    let ended = false;
    const md = new grpc.Metadata();
    md.set(SECURITY_HEADER, 'true');
    const current = client.WatchPolicies({}, md);
    call = current;
    current.on('data', (m: unknown) => {
      if (stopped) return;
      delay = initial;
      const set = readPolicySet(m);
      onSet(set);
    });
    current.on('error', (err: grpc.ServiceError) => {
      if (ended || stopped) return;
      ended = true;
      const name = grpc.status[err.code] ?? String(err.code);
      const error = new WorkloadError('ERR_WORKLOAD_RPC', `WatchPolicies failed: ${name}: ${err.details ?? err.message}`, { grpcCode: err.code, cause: err });
      const level = err.code === grpc.status.UNAVAILABLE ? 'warn' : 'error';
      log[level]({ grpcCode: err.code, reason: err.details }, 'policy stream from the agent ended; retrying with backoff');
      options.onError?.(error);
      retry();
    });
    current.on('end', () => {
      if (ended || stopped) return;
      ended = true;
      retry();
    });
  }

  start();
  return {
    close: () => {
      if (stopped) return;
      stopped = true;
      clearTimeout(timer);
      call?.cancel();
      client.close();
    },
  };
}

function readPolicySet(m: unknown): DistributedPolicySet {
  const raw = (m ?? {}) as { revision?: unknown; policies?: unknown };
  const list = Array.isArray(raw.policies) ? raw.policies : [];
  return {
    revision: String(raw.revision ?? ''),
    policies: list.map((p: { namespace?: unknown; name?: unknown; document?: unknown }) => ({ namespace: String(p?.namespace ?? ''), name: String(p?.name ?? ''), document: String(p?.document ?? '') })),
  };
}

/** A distributed set as the engine's sources, each named `agent:<namespace>/<name>` in error messages. */
export function policySources(set: DistributedPolicySet): Array<{ file: string; text: string }> {
  return set.policies.map((p) => ({ file: `agent:${p.namespace}/${p.name}`, text: p.document }));
}

export interface PolicySourceOptions extends WatchPoliciesOptions {
  /** The agent's socket (`unix:///path`); default SPIFFE_ENDPOINT_SOCKET. */
  readonly address?: string;
  /** Engine options (root namespace, normalization, CUSTOM providers). */
  readonly engine?: PolicyEngineOptions;
  /** Use this instance rather than a new one. */
  readonly policies?: DistributedPolicies;
}

/**
 * A `DistributedPolicies` kept up to date from the agent. Emits `'update'`
 * with the new state after every set applied, and `'failed-closed'` with it
 * when a set was invalid.
 */
export class PolicySource extends EventEmitter {
  readonly policies: DistributedPolicies;
  readonly #watch: PolicyWatch;
  readonly #log: WorkloadLogger;
  #first: Promise<DistributedPolicyState>;
  #resolveFirst!: (s: DistributedPolicyState) => void;

  private constructor(options: PolicySourceOptions) {
    super();
    this.#log = sdkLogger(options.logger);
    this.policies = options.policies ?? new DistributedPolicies(options.engine);
    this.#first = new Promise((resolve) => (this.#resolveFirst = resolve));
    this.#watch = watchPolicies(options.address, (set) => this.#apply(set), options);
  }

  static create(options: PolicySourceOptions = {}): PolicySource {
    return new PolicySource(options);
  }

  #apply(set: DistributedPolicySet): void {
    const state = this.policies.apply(policySources(set), set.revision);
    if (state.status === 'failed-closed') {
      this.#log.error({ revision: set.revision, error: state.error }, 'policy set from the agent is invalid: failing closed (every request denied) until a valid set arrives');
      this.emit('failed-closed', state);
    } else {
      this.#log.info({ revision: set.revision, policies: set.policies.length }, 'policy set applied');
    }
    this.#resolveFirst(state);
    this.emit('update', state);
  }

  get state(): DistributedPolicyState {
    return this.policies.state;
  }

  /** Resolves with the state after the first set received (valid or not). */
  firstSet(): Promise<DistributedPolicyState> {
    return this.#first;
  }

  evaluate(input: EvaluateInput): Decision {
    return this.policies.evaluate(input);
  }

  normalize(request: EvaluateInput['request']): ReturnType<DistributedPolicies['engine']['normalize']> {
    return this.policies.engine.normalize(request);
  }

  close(): void {
    this.#watch.close();
  }
}
