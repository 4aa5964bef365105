/**
 * Outbound: plain HTTP from the app on loopback, mTLS out with this
 * workload's SVID (MtlsAgent: the destination's chain verified against the
 * bundle of its trust domain, then its SPIFFE ID must equal the configured
 * one). Each outbound listener reaches exactly one configured destination:
 * that is the egress allow-list — there is no way to name another host.
 *
 * A destination may have several endpoints (`upstreams`), all presenting the
 * same SPIFFE ID: each attempt goes to the next one round-robin, skipping
 * those outlier detection has ejected (endpoint-picker.ts).
 *
 * Resilience per destination: a circuit breaker (503 while open, bounded
 * half-open probes), a timeout on the whole exchange (504), and at most
 * `retries` retries for idempotent requests without a body (never POST or
 * PATCH, never a body), inside a retry budget. A retry goes to the next endpoint.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import { resolveRequestId, type Auditor } from '../audit/index.js';
import { CircuitBreaker, isGuardError, OutlierDetector, retry, RetryBudget, serverLimits, applyServerLimits, type GuardError } from '../guard/index.js';
import { authorizeId } from '../spiffe/authorizers.js';
import { continueTrace, type ProxyMetrics } from '../telemetry/index.js';
import { MtlsAgent } from '../workload/mtls-agent.js';
import type { OutboundConfig } from './config.js';
import { CONNECT_FAILURE_STATUS, EndpointPicker, endpointName, TIMEOUT_STATUS } from './endpoint-picker.js';
import { requestHeadersForUpstream, responseHeadersForClient } from './headers.js';
import type { ProxySource } from './identity.js';

export interface OutboundContext {
  readonly config: OutboundConfig;
  readonly source: ProxySource;
  readonly self: () => string;
  readonly auditor: Auditor;
  readonly metrics: ProxyMetrics;
  readonly onLog?: (msg: string, fields?: Record<string, unknown>) => void;
}

export interface OutboundListener {
  readonly server: Server;
  readonly port: number;
  readonly breaker: CircuitBreaker;
  readonly endpoints: EndpointPicker;
  close(): Promise<void>;
}

class UpstreamStatusError extends Error {
  constructor(readonly statusCode: number) {
    super(`upstream answered ${statusCode}`);
  }
}

function isTimeout(err: unknown): boolean {
  const name = (err as { name?: string } | null)?.name;
  return name === 'TimeoutError' || name === 'AbortError';
}

export async function startOutboundListener(ctx: OutboundContext): Promise<OutboundListener> {
  const { config, metrics } = ctx;
  const endpoints = config.upstreams.map(endpointName);
  // the destination's name in metrics and logs: its endpoints
  const name = endpoints.join(',');
  const detector =
    endpoints.length > 1
      ? new OutlierDetector(endpoints, {
          ...config.outlierDetection,
          onEject: (endpoint, until) => {
            metrics.outlierEjection(endpoint);
            ctx.onLog?.('endpoint ejected', { upstream: name, endpoint, forMs: until - Date.now() });
          },
        })
      : undefined;
  const picker = new EndpointPicker(endpoints, detector);
  if (detector) metrics.trackEjected(name, () => picker.ejectedCount());
  const agent = new MtlsAgent({
    source: ctx.source,
    authorize: authorizeId(config.spiffeId),
    agentOptions: { connections: 256, keepAliveTimeout: 30_000, connectTimeout: Math.min(config.timeoutMs, 10_000) },
  });
  const breaker = new CircuitBreaker({
    ...(config.breaker ? { breaker: { kind: 'consecutive' as const, failures: config.breaker.failures }, openMs: config.breaker.openMs, halfOpenProbes: config.breaker.halfOpenProbes } : {}),
    onStateChange: (state) => {
      metrics.setCircuitState(name, state);
      ctx.onLog?.('circuit state', { upstream: name, state });
    },
  });
  metrics.setCircuitState(name, 'closed');
  const budget = new RetryBudget();

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const start = process.hrtime.bigint();
    const time = Date.now();
    const requestId = resolveRequestId(req.headers['x-request-id']).id;
    const trace = continueTrace(req.headers.traceparent, req.headers.tracestate);
    const hasBody = (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0') || req.headers['transfer-encoding'] !== undefined;
    const headers = requestHeadersForUpstream(req.headers, requestId, trace.traceparent, trace.tracestate);
    // Read now: once the response is done, Node may have detached the socket (req.socket null).
    const source = `${req.socket.remoteAddress}:${req.socket.remotePort}`;
    let bytesOut = 0;
    // the endpoint of the last attempt: what the audit record names as host
    let used: string | null = null;
    const finish = (status: number, decision: 'allow' | 'deny', reason: string | null) => {
      const durationMs = Number(process.hrtime.bigint() - start) / 1e6;
      metrics.observeRequest({ direction: 'outbound', caller: ctx.self(), destination: config.spiffeId, decision, status, durationSeconds: durationMs / 1000 });
      ctx.auditor.recordAllowed({
        time,
        kind: 'http',
        caller: ctx.self(),
        destination: config.spiffeId,
        source,
        method: req.method ?? null,
        path: req.url ?? null,
        normalizedPath: null,
        host: used ?? name,
        decision,
        status,
        bytesOut,
        durationMs,
        requestId,
        traceparent: trace.traceparent,
        reason,
      });
    };
    const refuse = (err: GuardError | Error, status: number) => {
      if (!res.headersSent) {
        const h: Record<string, string> = { 'content-type': 'text/plain; charset=utf-8', 'x-request-id': requestId };
        if (isGuardError(err) && err.retryAfterSeconds !== undefined) h['retry-after'] = String(err.retryAfterSeconds);
        res.writeHead(status, h);
        res.end(`${err.message}\n`);
      } else res.destroy();
      finish(status, 'deny', err.message);
    };
    const attempt = async (): Promise<Dispatcher.ResponseData> => {
      const ticket = breaker.enter();
      const endpoint = picker.pick();
      used = endpoint;
      const signal = AbortSignal.timeout(config.timeoutMs);
      try {
        const r = await agent.request({ origin: `https://${endpoint}`, path: req.url ?? '/', method: (req.method ?? 'GET') as Dispatcher.HttpMethod, headers, body: hasBody ? req : null, signal });
        picker.report(endpoint, r.statusCode);
        if (r.statusCode >= 500) ticket.failure();
        else ticket.success();
        if (r.statusCode >= 500 && !hasBody && config.retries > 0) {
          // let retry() decide; the body of a response we retry past is dropped
          const err = new UpstreamStatusError(r.statusCode);
          (err as unknown as { response: Dispatcher.ResponseData }).response = r;
          throw err;
        }
        return r;
      } catch (err) {
        if (!(err instanceof UpstreamStatusError) && !isGuardError(err)) {
          ticket.failure();
          // no answer at all: a connect/TLS/identity failure, or the timeout
          picker.report(endpoint, isTimeout(err) ? TIMEOUT_STATUS : CONNECT_FAILURE_STATUS);
        }
        throw err;
      }
    };
    retry(attempt, {
      request: { method: req.method ?? 'GET', hasBody },
      maxRetries: config.retries,
      budget,
      retryOnError: (e) => !isGuardError(e),
      onRetry: () => ctx.onLog?.('retrying idempotent request', { upstream: name }),
    }).then(
      (r) => {
        res.writeHead(r.statusCode, responseHeadersForClient(r.headers));
        r.body.on('data', (c: Buffer) => (bytesOut += c.length));
        r.body.pipe(res);
        r.body.on('end', () => finish(r.statusCode, 'allow', null));
        r.body.on('error', () => res.destroy());
      },
      (err: unknown) => {
        if (err instanceof UpstreamStatusError) {
          const r = (err as unknown as { response: Dispatcher.ResponseData }).response;
          res.writeHead(r.statusCode, responseHeadersForClient(r.headers));
          r.body.pipe(res);
          r.body.on('end', () => finish(r.statusCode, 'allow', null));
          return;
        }
        if (isGuardError(err)) return refuse(err, err.status);
        const e = err as Error & { name?: string; code?: string };
        if (isTimeout(e)) return refuse(new Error('upstream timed out'), 504);
        refuse(new Error(`upstream unavailable: ${e.code ?? e.message}`), 502);
      },
    );
  };

  const server = createServer({ ...serverLimits }, handler);
  applyServerLimits(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.listen.port, config.listen.host, () => resolve());
  });
  const address = server.address();
  return {
    server,
    port: typeof address === 'object' && address !== null ? address.port : config.listen.port,
    breaker,
    endpoints: picker,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await agent.close();
    },
  };
}
