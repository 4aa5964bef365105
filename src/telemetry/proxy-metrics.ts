/**
 * The proxy's metric set, on a Registry the caller owns (never prom-client's
 * global default, so two components in one process never collide). Every
 * label fed from the network goes through a LabelCap. docs/metrics.md lists
 * each metric.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { LabelCap } from './label-cap.js';

/** Request duration buckets (seconds): 25 µs … 10 s, dense below 5 ms where a sidecar's own cost lives. */
export const DURATION_BUCKETS = [
  0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.00075, 0.001, 0.0015, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

export type CircuitState = 'closed' | 'half-open' | 'open';
const CIRCUIT_VALUE: Record<CircuitState, number> = { closed: 0, 'half-open': 1, open: 2 };

export interface ProxyMetricsOptions {
  /** Distinct callers (SPIFFE IDs) kept as labels before folding into `other`; default 100. */
  readonly maxCallers?: number;
  /** Distinct destinations; default 50. */
  readonly maxDestinations?: number;
  /** Distinct policy names, authentication failure reasons, limit names, upstreams; default 50 each. */
  readonly maxOther?: number;
  /** Metric name prefix; default `meshward_`. */
  readonly prefix?: string;
}

export interface RequestObservation {
  readonly caller: string | null;
  readonly destination: string;
  readonly decision: 'allow' | 'deny';
  readonly status: number;
  readonly direction?: 'inbound' | 'outbound';
  /** Whole request, seconds. */
  readonly durationSeconds?: number;
}

export function createProxyMetrics(registry: Registry, options: ProxyMetricsOptions = {}) {
  const p = options.prefix ?? 'meshward_';
  const registers = [registry];
  const overflow = new Counter({
    name: `${p}label_values_folded_total`,
    help: 'Label values folded into "other" because the label reached its cardinality cap',
    labelNames: ['label'],
    registers,
  });
  const cap = (label: string, max: number) => new LabelCap(max, 256, () => overflow.inc({ label }));
  const maxOther = options.maxOther ?? 50;
  const callers = cap('caller', options.maxCallers ?? 100);
  const destinations = cap('destination', options.maxDestinations ?? 50);
  const policies = cap('policy', maxOther);
  const reasons = cap('reason', maxOther);
  const limits = cap('limit', maxOther);
  const upstreams = cap('upstream', maxOther);
  const sinks = cap('sink', 8);

  const requests = new Counter({
    name: `${p}proxy_requests_total`,
    help: 'Requests (and TCP connections) handled, by caller SPIFFE ID, destination, decision and status',
    labelNames: ['direction', 'caller', 'destination', 'decision', 'status'],
    registers,
  });
  const duration = new Histogram({
    name: `${p}proxy_request_duration_seconds`,
    help: 'Time from the request arriving to the response finishing, seconds',
    labelNames: ['direction', 'decision'],
    buckets: DURATION_BUCKETS,
    registers,
  });
  const authnFailures = new Counter({
    name: `${p}proxy_authn_failures_total`,
    help: 'Failed authentications (bad certificate, bad or replayed token, ...), by reason',
    labelNames: ['reason'],
    registers,
  });
  const denials = new Counter({
    name: `${p}proxy_denials_total`,
    help: 'Requests denied by authorization, by deciding policy ("default" when none matched)',
    labelNames: ['policy'],
    registers,
  });
  const rateLimited = new Counter({
    name: `${p}proxy_rate_limited_total`,
    help: 'Requests refused by a rate limit (429), by limit name and caller',
    labelNames: ['limit', 'caller'],
    registers,
  });
  const rateLimitBackendErrors = new Counter({
    name: `${p}proxy_rate_limit_backend_errors_total`,
    help: 'Rate-limit checks that could not reach their backend (Redis), by limit and the outcome chosen (fail-open / fail-closed)',
    labelNames: ['limit', 'outcome'],
    registers,
  });
  const lockouts = new Counter({
    name: `${p}proxy_lockouts_total`,
    help: 'Sources locked out after repeated failed authentication',
    registers,
  });
  const lockoutRefusals = new Counter({
    name: `${p}proxy_lockout_refusals_total`,
    help: 'Connections or requests refused because their source is locked out',
    registers,
  });
  const bulkheadRejections = new Counter({
    name: `${p}proxy_bulkhead_rejections_total`,
    help: 'Requests refused (503) because the caller reached its concurrency limit',
    labelNames: ['caller'],
    registers,
  });
  const circuitState = new Gauge({
    name: `${p}proxy_circuit_state`,
    help: 'Circuit breaker state per upstream: 0 closed, 1 half-open, 2 open',
    labelNames: ['upstream'],
    registers,
  });
  const outlierEjections = new Counter({
    name: `${p}proxy_outlier_ejections_total`,
    help: 'Outbound endpoints ejected by outlier detection (consecutive 5xx, connect failures, timeouts), by endpoint',
    labelNames: ['endpoint'],
    registers,
  });
  // Ejections end by the clock, not by an event: the gauge asks each destination at scrape time.
  const ejectedNow = new Map<string, () => number>();
  const outlierEjected = new Gauge({
    name: `${p}proxy_outlier_ejected_endpoints`,
    help: 'Endpoints of an outbound destination ejected right now',
    labelNames: ['upstream'],
    registers,
    collect() {
      for (const [upstream, count] of ejectedNow) this.set({ upstream }, count());
    },
  });
  const svidExpiry = new Gauge({
    name: `${p}svid_expiry_seconds`,
    help: "Seconds until this workload's X.509-SVID expires",
    registers,
  });
  const auditWritten = new Counter({ name: `${p}audit_records_written_total`, help: 'Audit records written', labelNames: ['sink'], registers });
  const auditDropped = new Counter({
    name: `${p}audit_records_dropped_total`,
    help: 'Allowed-request audit records dropped because the audit queue was full',
    labelNames: ['sink'],
    registers,
  });
  const auditFailed = new Counter({
    name: `${p}audit_records_failed_total`,
    help: 'Audit records that could not be written or serialized (alert on any increase)',
    labelNames: ['sink'],
    registers,
  });
  const auditInvalidUtf8 = new Counter({
    name: `${p}audit_invalid_utf8_total`,
    help: 'Audit record fields whose invalid UTF-8 was replaced before writing',
    registers,
  });

  return {
    registry,
    requests,
    duration,
    authnFailures,
    denials,
    rateLimited,
    rateLimitBackendErrors,
    lockouts,
    lockoutRefusals,
    bulkheadRejections,
    circuitState,
    outlierEjections,
    outlierEjected,
    svidExpiry,
    auditWritten,
    auditDropped,
    auditFailed,
    auditInvalidUtf8,
    labelsFolded: overflow,

    /** One finished request (or TCP connection). */
    observeRequest(o: RequestObservation): void {
      const direction = o.direction ?? 'inbound';
      requests.inc({ direction, caller: callers.value(o.caller), destination: destinations.value(o.destination), decision: o.decision, status: String(o.status) });
      if (o.durationSeconds !== undefined && Number.isFinite(o.durationSeconds) && o.durationSeconds >= 0) {
        duration.observe({ direction, decision: o.decision }, o.durationSeconds);
      }
    },
    authnFailure(reason: string): void {
      authnFailures.inc({ reason: reasons.value(reason) });
    },
    denial(policy: string | null): void {
      denials.inc({ policy: policy === null ? 'default' : policies.value(policy) });
    },
    rateLimitHit(limit: string, caller: string | null): void {
      rateLimited.inc({ limit: limits.value(limit), caller: callers.value(caller) });
    },
    rateLimitBackendError(limit: string, outcome: 'fail-open' | 'fail-closed'): void {
      rateLimitBackendErrors.inc({ limit: limits.value(limit), outcome });
    },
    lockout(): void {
      lockouts.inc();
    },
    lockoutRefusal(): void {
      lockoutRefusals.inc();
    },
    bulkheadRejection(caller: string | null): void {
      bulkheadRejections.inc({ caller: callers.value(caller) });
    },
    setCircuitState(upstream: string, state: CircuitState): void {
      circuitState.set({ upstream: upstreams.value(upstream) }, CIRCUIT_VALUE[state]);
    },
    outlierEjection(endpoint: string): void {
      outlierEjections.inc({ endpoint: upstreams.value(endpoint) });
    },
    /** Reports `count()` as the destination's ejected endpoints on every scrape. */
    trackEjected(upstream: string, count: () => number): void {
      ejectedNow.set(upstreams.value(upstream), count);
    },
    /** Sets the SVID expiry gauge from its notAfter. */
    setSvidExpiry(notAfter: Date, now: number = Date.now()): void {
      svidExpiry.set((notAfter.getTime() - now) / 1000);
    },
    /** Hooks to pass to `new Auditor({ ..., ...metrics.auditHooks('file') })`. */
    auditHooks(sink: string) {
      const labels = { sink: sinks.value(sink) };
      return {
        onWritten: (n: number) => auditWritten.inc(labels, n),
        onDropped: (n: number) => auditDropped.inc(labels, n),
        onFailed: (n: number) => auditFailed.inc(labels, n),
        onInvalidUtf8: (n: number) => auditInvalidUtf8.inc(n),
      };
    },
  };
}

export type ProxyMetrics = ReturnType<typeof createProxyMetrics>;
