/**
 * The agent's Prometheus metrics, on their own prom-client Registry (never
 * the global one): SVIDs served, rotations, seconds to expiry of the agent
 * SVID and of the soonest-expiring workload SVID, the server connection
 * state, Workload API calls by method and status, rate-limited calls.
 */
import { Counter, Gauge, Registry } from 'prom-client';

export interface AgentMetricsSources {
  agentSvidExpiresAt(): number | undefined;
  minWorkloadSvidExpiresAt(): number | undefined;
  cachedSvids(): number;
  entries(): number;
  serverConnected(): boolean;
}

export class AgentMetrics {
  readonly registry = new Registry();
  readonly svidsServed: Counter<'kind'>;
  readonly rotations: Counter;
  readonly calls: Counter<'method' | 'code'>;
  readonly rateLimited: Counter;
  /** Label sets made once per (method, code) and per kind: prom-client keeps them, so a call allocates none. */
  readonly #callLabels = new Map<string, Map<string, Readonly<Record<'method' | 'code', string>>>>();
  readonly #servedLabels = { x509: Object.freeze({ kind: 'x509' }), jwt: Object.freeze({ kind: 'jwt' }) };

  constructor(sources: AgentMetricsSources) {
    const registers = [this.registry];
    this.svidsServed = new Counter({ name: 'meshward_agent_svids_served_total', help: 'SVIDs handed to workloads, by kind (x509, jwt)', labelNames: ['kind'], registers });
    this.rotations = new Counter({ name: 'meshward_agent_svid_rotations_total', help: 'workload X.509-SVIDs signed (first issue and rotations)', registers });
    this.calls = new Counter({ name: 'meshward_agent_workload_api_calls_total', help: 'Workload API calls by method and gRPC status code', labelNames: ['method', 'code'], registers });
    this.rateLimited = new Counter({ name: 'meshward_agent_workload_api_rate_limited_total', help: 'Workload API calls refused by the per-caller rate limit', registers });
    const secondsLeft = (at: number | undefined): number => (at === undefined ? -1 : Math.round((at - Date.now()) / 1000));
    new Gauge({
      name: 'meshward_agent_svid_seconds_to_expiry',
      help: 'seconds until expiry: the agent SVID (svid="agent") and the soonest workload SVID (svid="workload_min"); -1 when none',
      labelNames: ['svid'],
      registers,
      collect() {
        this.set({ svid: 'agent' }, secondsLeft(sources.agentSvidExpiresAt()));
        this.set({ svid: 'workload_min' }, secondsLeft(sources.minWorkloadSvidExpiresAt()));
      },
    });
    new Gauge({ name: 'meshward_agent_cached_svids', help: 'workload X.509-SVIDs in the cache', registers, collect() { this.set(sources.cachedSvids()); } });
    new Gauge({ name: 'meshward_agent_entries', help: 'registration entries this agent serves', registers, collect() { this.set(sources.entries()); } });
    new Gauge({ name: 'meshward_agent_server_connected', help: '1 when the last call to a server succeeded, else 0', registers, collect() { this.set(sources.serverConnected() ? 1 : 0); } });
  }

  /** Counts one Workload API call that ended with gRPC status `code` (its name: OK, UNAVAILABLE, …). */
  countCall(method: string, code: string): void {
    let byCode = this.#callLabels.get(method);
    if (byCode === undefined) this.#callLabels.set(method, (byCode = new Map()));
    let labels = byCode.get(code);
    if (labels === undefined) byCode.set(code, (labels = Object.freeze({ method, code })));
    this.calls.inc(labels);
  }

  countServed(kind: 'x509' | 'jwt', count = 1): void {
    this.svidsServed.inc(this.#servedLabels[kind], count);
  }
}
