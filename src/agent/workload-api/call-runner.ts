/**
 * What every Workload API method and the policy service share: attesting a
 * call (rate limit per uid, then the connection's cached attestation, with
 * the pid-reuse check on every call) and running a stream of snapshots that
 * are sent again only when they change. One instance per agent endpoint, so
 * a connection is attested once whichever service it calls.
 */
import { AgentError } from '../agent-error.js';
import { ConnectionAttestations, type ConnectedPeer } from '../attestors/attest-caller.js';
import type { CallEnd } from './call-end.js';
import type { CallContext } from './grpc-server.js';
import { GrpcCallError, GrpcStatus } from './grpc-status.js';
import type { WorkloadApiDeps } from './handlers.js';

/** Returns bytes to send, 'wait' (nothing yet), or throws GrpcCallError to end the stream. */
export type Snapshot = (selectors: ReadonlySet<string>) => Uint8Array | 'wait';

export class CallRunner {
  readonly #deps: WorkloadApiDeps;
  readonly #attestations: ConnectionAttestations;
  readonly #waiters = new Map<string, Set<() => void>>();

  constructor(deps: WorkloadApiDeps) {
    this.#deps = deps;
    deps.cache.setMaxListeners(0);
    this.#attestations = new ConnectionAttestations(deps.attestors, deps.proc, () => deps.cache.selectorGeneration);
  }

  /** The caller's selectors; UNAVAILABLE when it cannot be attested or is over its rate. */
  async attest(call: CallContext<ConnectedPeer>, rateLimited = true): Promise<ReadonlySet<string>> {
    const deps = this.#deps;
    if (!call.connection.ok) {
      deps.log.warn({ err: (call.connection.error as Error)?.message }, 'workload attestation failed: no peer credentials');
      throw new GrpcCallError(GrpcStatus.UNAVAILABLE, 'workload attestation failed');
    }
    const peer = call.connection.value;
    if (rateLimited && !deps.limiter.take(String(peer.uid)).allowed) {
      deps.metrics?.rateLimited.inc();
      throw new GrpcCallError(GrpcStatus.UNAVAILABLE, 'rate limit exceeded for this caller; retry with backoff');
    }
    try {
      const { selectors, fresh } = await this.#attestations.selectors(peer);
      if (fresh) deps.log.debug({ pid: peer.pid, selectors: selectors.size }, 'workload attested');
      return selectors;
    } catch (err) {
      deps.log.warn({ pid: peer.pid, code: err instanceof AgentError ? err.code : undefined }, 'workload attestation failed');
      throw new GrpcCallError(GrpcStatus.UNAVAILABLE, 'workload attestation failed');
    }
  }

  /**
   * Sends `snapshot` now and after every cache event in `events` that changes
   * it, until the call ends. When the connection's selectors went stale (an
   * entry now selects on what was not computed), the caller is attested
   * again before the next snapshot. `onSent` counts what was served.
   */
  async stream(call: CallContext<ConnectedPeer>, send: (m: Uint8Array) => void, first: ReadonlySet<string>, snapshot: Snapshot, options: { events?: readonly string[]; onSent?: () => void } = {}): Promise<void> {
    const events = options.events ?? CHANGE;
    let last: Uint8Array | undefined;
    let selectors = first;
    while (!call.end.ended) {
      if (call.connection.ok && this.#attestations.stale(call.connection.value)) selectors = await this.attest(call, false);
      const answer = snapshot(selectors);
      if (answer !== 'wait' && !sameBytes(last, answer)) {
        send(answer);
        last = answer;
        options.onSent?.();
      }
      await this.#nextEvent(call.end, events);
    }
  }

  /** Resolves at the next cache event in `events`, or when the call ends. */
  #nextEvent(end: CallEnd, events: readonly string[]): Promise<void> {
    return new Promise((resolve) => {
      if (end.ended) return resolve();
      const done = (): void => {
        for (const e of events) this.#waitersOf(e).delete(done);
        end.offEnd(done);
        resolve();
      };
      for (const e of events) this.#waitersOf(e).add(done);
      end.onEnd(done);
    });
  }

  /**
   * The streams waiting for a cache event. One cache listener per event for
   * the whole runner, not one per stream: a stream leaving is a Set delete,
   * not a scan of every open stream's listener.
   */
  #waitersOf(event: string): Set<() => void> {
    let waiters = this.#waiters.get(event);
    if (waiters === undefined) {
      const set = (waiters = new Set());
      this.#waiters.set(event, set);
      this.#deps.cache.on(event, () => {
        for (const wake of [...set]) wake(); // each removes itself
      });
    }
    return waiters;
  }
}

const CHANGE: readonly string[] = Object.freeze(['change']);

/** Snapshots are often the very same (cached) bytes: compared by identity first. */
function sameBytes(a: Uint8Array | undefined, b: Uint8Array): boolean {
  return a !== undefined && (a === b || Buffer.compare(a, b) === 0);
}
