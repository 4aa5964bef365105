/**
 * The inbound request pipeline, a filter chain built once by function
 * composition (as undici's interceptors): each filter is
 * `(next) => (exchange) => void`, refuses by calling `deny(...)`, or passes
 * the exchange on. Per request there is one `Exchange` object and no other
 * allocation the chain could avoid.
 *
 *   hygiene → [JWT-SVID authentication] → authorize (policy, normalized
 *   path) → route → rate limit → bulkhead → input validation → must-audit →
 *   forward to the app
 *
 * Denials are audited durably BEFORE the response is written; allowed
 * requests are audited (buffered) when their response ends.
 */
import type { IncomingMessage } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';
import type { Auditor, AuditRecordInput } from '../audit/index.js';
import { resolveRequestId } from '../audit/index.js';
import { checkRequestHygiene, isGuardError, rateLimitError, rateLimitHeaders, rateLimitKey, type GuardError, type RateLimitResult, type Release } from '../guard/index.js';
import type { Decision, EvaluateInput } from '../policy/index.js';
import { continueTrace, type ProxyMetrics, type TraceContext } from '../telemetry/index.js';
import { forwardToApp, type AppForwarder } from './forward.js';
import { peerOfSocket, type InboundRequest, type InboundResponse } from './inbound-listener.js';
import { matchRoute, type Route } from './routes.js';

/** What the chain needs from the policy side (a PolicyEngine or DistributedPolicies wrapper). */
export interface Authorizer {
  evaluate(input: EvaluateInput): Decision;
  normalize(request: EvaluateInput['request']): { ok: true; path?: string; forwardPath?: string } | { ok: false; reason: string };
}

export interface InboundContext {
  readonly workload: EvaluateInput['workload'];
  readonly destination: string;
  readonly port: number;
  readonly policy: () => Authorizer;
  readonly routes: readonly Route[];
  readonly auditor: Auditor;
  readonly metrics: ProxyMetrics;
  readonly app: AppForwarder;
  readonly maxHeaderBytes: number;
  /** Request authentication after hygiene (jwt-filter.ts), when `inbound.jwt` is set. */
  readonly authenticate?: (ctx: InboundContext) => Filter;
}

/** Per-request state. */
export class Exchange {
  readonly startNs = process.hrtime.bigint();
  readonly time = Date.now();
  readonly req: InboundRequest;
  readonly res: InboundResponse;
  readonly peer: string | null;
  /** `ip:port` of the client. */
  readonly source: string;
  readonly sourceIp: string;
  readonly requestId: string;
  readonly trace: TraceContext;
  readonly method: string;
  readonly rawPath: string;
  readonly host: string | undefined;
  normalizedPath: string | null = null;
  forwardPath = '/';
  decision: Decision | null = null;
  route: Route | null = null;
  body: Buffer | null = null;
  release: Release | null = null;
  status = 0;
  bytesIn = 0;
  bytesOut = 0;
  reason: string | null = null;
  done = false;
  /** Set by request authentication: the JWT-SVID's SPIFFE ID and claims, the token's audit ID. */
  requestPrincipal: string | null = null;
  jwtClaims: Readonly<Record<string, unknown>> | null = null;
  tokenId: string | null = null;
  /** The proxy consumed the Authorization header: the app does not get it. */
  stripAuthorization = false;

  constructor(req: InboundRequest, res: InboundResponse) {
    this.req = req;
    this.res = res;
    const h2 = (req as Http2ServerRequest).stream !== undefined;
    const socket = h2 ? (req as Http2ServerRequest).stream.session?.socket : (req as IncomingMessage).socket;
    this.peer = peerOfSocket(socket);
    this.sourceIp = socket?.remoteAddress ?? 'unknown';
    this.source = `${this.sourceIp}:${socket?.remotePort ?? 0}`;
    const headers = req.headers;
    this.requestId = resolveRequestId(headers['x-request-id']).id;
    this.trace = continueTrace(headers.traceparent, headers.tracestate);
    this.method = req.method ?? '';
    this.rawPath = req.url ?? '';
    this.host = (h2 ? (headers[':authority'] as string | undefined) : undefined) ?? headers.host;
  }

  durationMs(): number {
    return Number(process.hrtime.bigint() - this.startNs) / 1e6;
  }
}

export type Handler = (ex: Exchange) => void;
export type Filter = (next: Handler) => Handler;

/** Folds filters right to left: `compose(a, b, c)(last)` runs a, then b, then c, then last. */
export function compose(...filters: Filter[]): Filter {
  return (last) => {
    let handler = last;
    for (let i = filters.length - 1; i >= 0; i--) {
      handler = filters[i]!(handler);
      if (typeof handler !== 'function' || handler.length !== 1) throw new TypeError('invalid filter');
    }
    return handler;
  };
}

function record(ctx: InboundContext, ex: Exchange, decision: 'allow' | 'deny'): AuditRecordInput {
  const d = ex.decision;
  return {
    time: ex.time,
    kind: 'http',
    caller: ex.peer,
    destination: ctx.destination,
    source: ex.source,
    method: ex.method,
    path: ex.rawPath,
    normalizedPath: ex.normalizedPath,
    host: ex.host ?? null,
    userAgent: (ex.req.headers['user-agent'] as string | undefined) ?? null,
    decision,
    policy: d?.policy ?? null,
    rule: d?.rule === undefined ? null : String(d.rule),
    dryRun: d?.dryRun !== undefined || d?.audit === true,
    status: ex.status,
    bytesIn: ex.bytesIn,
    bytesOut: ex.bytesOut,
    durationMs: ex.durationMs(),
    requestId: ex.requestId,
    traceparent: ex.trace.traceparent,
    reason: ex.reason,
    tokenId: ex.tokenId,
  };
}

/** Refuses the request: the audit record is durable before the response is written. */
export function deny(ctx: InboundContext, ex: Exchange, status: number, reason: string, headers?: Record<string, string>): void {
  if (ex.done) return;
  ex.done = true;
  ex.status = status;
  ex.reason = reason;
  ex.release?.();
  ex.release = null;
  ctx.metrics.observeRequest({ caller: ex.peer, destination: ctx.destination, decision: 'deny', status, durationSeconds: ex.durationMs() / 1000 });
  const send = () => {
    const res = ex.res;
    if (res.headersSent || res.destroyed) return;
    const body = `${status === 403 ? 'RBAC: access denied' : reason}\n`;
    res.writeHead(status, { ...headers, 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), 'x-request-id': ex.requestId });
    res.end(body);
    // an unread request body must not be forwarded anywhere; let the parser discard it
    ex.req.resume();
  };
  ctx.auditor.recordDenial(record(ctx, ex, 'deny')).then(send, () => send());
}

function guardDeny(ctx: InboundContext, ex: Exchange, err: GuardError, headers?: Record<string, string>): void {
  const h = { ...headers };
  if (err.retryAfterSeconds !== undefined) h['retry-after'] = String(err.retryAfterSeconds);
  deny(ctx, ex, err.status, err.message.replace(/^guard: /, ''), h);
}

const hygiene = (ctx: InboundContext): Filter => (next) => (ex) => {
  const bad = checkRequestHygiene(ex.req as IncomingMessage, { maxHeaderBytes: ctx.maxHeaderBytes });
  if (bad !== undefined) return guardDeny(ctx, ex, bad);
  next(ex);
};

function headersOf(req: InboundRequest): Record<string, string[] | undefined> {
  const distinct = (req as IncomingMessage).headersDistinct;
  if (distinct !== undefined) return distinct;
  const out: Record<string, string[]> = {};
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (name.charCodeAt(0) === 58) continue;
    (out[name] ??= []).push(raw[i + 1]!);
  }
  return out;
}

const authorize = (ctx: InboundContext): Filter => (next) => (ex) => {
  const policy = ctx.policy();
  const request: EvaluateInput['request'] = {
    principal: ex.peer,
    method: ex.method,
    path: ex.rawPath,
    ...(ex.host === undefined ? {} : { host: ex.host }),
    port: ctx.port,
    headers: headersOf(ex.req),
    sourceIp: ex.sourceIp,
    jwtClaims: ex.jwtClaims,
    requestPrincipal: ex.requestPrincipal,
  };
  const decision = policy.evaluate({ workload: ctx.workload, request });
  ex.decision = decision;
  if (decision.reject !== undefined) return deny(ctx, ex, 400, decision.reject.reason);
  // The engine reports the path it matched; only a decision made without
  // matching (fail closed, no policy set yet) leaves it to normalize here.
  let normalized = decision.normalized;
  if (normalized === undefined) {
    const n = policy.normalize(request);
    if (!n.ok) return deny(ctx, ex, 400, n.reason);
    normalized = n;
  }
  ex.normalizedPath = normalized.path ?? null;
  ex.forwardPath = normalized.forwardPath ?? '/';
  if (!decision.allowed) {
    ctx.metrics.denial(decision.policy ?? null);
    return deny(ctx, ex, 403, decision.reason);
  }
  next(ex);
};

const route = (ctx: InboundContext): Filter => (next) => (ex) => {
  ex.route = matchRoute(ctx.routes, ex.normalizedPath ?? '/', ex.method);
  next(ex);
};

const rateLimit = (ctx: InboundContext): Filter => (next) => (ex) => {
  const r = ex.route!;
  const limiter = r.limiter;
  if (limiter === null) return next(ex);
  const key = rateLimitKey(ex.peer ?? `anonymous:${ex.sourceIp}`, r.name);
  const onResult = (result: RateLimitResult) => {
    if (result.allowed) return next(ex);
    if (result.degraded === true) return guardDeny(ctx, ex, rateLimitError(result));
    ctx.metrics.rateLimitHit(r.name, ex.peer);
    guardDeny(ctx, ex, rateLimitError(result), rateLimitHeaders(result, { ratePerSecond: r.ratePerSecond }));
  };
  const result = limiter.consume(key);
  if (result instanceof Promise) result.then(onResult, (err: unknown) => deny(ctx, ex, 503, `rate limit unavailable: ${(err as Error).message}`));
  else onResult(result);
};

const bulkhead = (ctx: InboundContext): Filter => (next) => (ex) => {
  const b = ex.route!.bulkheads;
  if (b === null) return next(ex);
  let got: Release | Promise<Release>;
  try {
    got = b.acquire(ex.peer ?? 'anonymous');
  } catch (err) {
    return isGuardError(err) ? guardDeny(ctx, ex, err) : deny(ctx, ex, 503, 'bulkhead');
  }
  const admitted = (release: Release) => {
    if (ex.done) return release();
    ex.release = release;
    next(ex);
  };
  if (typeof got === 'function') admitted(got);
  else got.then(admitted, (err: unknown) => (isGuardError(err) ? guardDeny(ctx, ex, err) : deny(ctx, ex, 503, 'bulkhead')));
};

const validate = (ctx: InboundContext): Filter => (next) => (ex) => {
  const v = ex.route!.validator;
  if (v === null) return next(ex);
  v.read(ex.req as IncomingMessage).then(
    (input) => {
      ex.body = input.body;
      ex.bytesIn = input.body.length;
      next(ex);
    },
    (err: unknown) => (isGuardError(err) ? guardDeny(ctx, ex, err) : deny(ctx, ex, 400, 'request body could not be read')),
  );
};

const mustAudit = (ctx: InboundContext): Filter => (next) => (ex) => {
  if (!ex.route!.mustAudit) return next(ex);
  ctx.auditor.recordDurable({ ...record(ctx, ex, 'allow'), reason: 'must-audit: admitted' }).then(
    () => next(ex),
    () => deny(ctx, ex, 503, 'audit unavailable on a must-audit route'),
  );
};

/** Builds the request listener for the inbound listener. */
export function createInboundHandler(ctx: InboundContext): (req: InboundRequest, res: InboundResponse) => void {
  const chain = compose(hygiene(ctx), ...(ctx.authenticate ? [ctx.authenticate(ctx)] : []), authorize(ctx), route(ctx), rateLimit(ctx), bulkhead(ctx), validate(ctx), mustAudit(ctx));
  const onFinished = (ex: Exchange) => {
    ex.release?.();
    ex.release = null;
    if (ex.done) return;
    ex.done = true;
    ctx.metrics.observeRequest({ caller: ex.peer, destination: ctx.destination, decision: 'allow', status: ex.status, durationSeconds: ex.durationMs() / 1000 });
    if (!ex.route?.mustAudit) ctx.auditor.recordAllowed(record(ctx, ex, 'allow'));
  };
  const forward = (ex: Exchange) => forwardToApp(ctx.app, ex, onFinished);
  const handle = chain(forward);
  return (req, res) => {
    const ex = new Exchange(req, res);
    handle(ex);
  };
}
