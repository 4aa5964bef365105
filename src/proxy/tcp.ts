/**
 * TCP mode: the connection is authorized once (policy evaluated at the TCP
 * layer: ALLOW rules with HTTP fields never match, DENY rules with HTTP
 * fields deny everything — SECURITY-CASES 53), then piped to the app. One
 * audit record per connection, written when it closes (a denial: before the
 * connection is closed).
 */
import { connect, type Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Auditor, AuditRecordInput } from '../audit/index.js';
import { continueTrace, type ProxyMetrics } from '../telemetry/index.js';
import type { Authorizer } from './inbound-handler.js';
import type { EvaluateInput } from '../policy/index.js';

export interface TcpContext {
  readonly workload: EvaluateInput['workload'];
  readonly destination: string;
  readonly port: number;
  readonly policy: () => Authorizer;
  readonly auditor: Auditor;
  readonly metrics: ProxyMetrics;
  readonly app: { readonly host: string; readonly port: number };
}

export function handleTcpConnection(ctx: TcpContext, socket: TLSSocket | Socket, peer: string | null): void {
  const start = process.hrtime.bigint();
  const time = Date.now();
  const sourceIp = socket.remoteAddress ?? 'unknown';
  const source = `${sourceIp}:${socket.remotePort ?? 0}`;
  const decision = ctx.policy().evaluate({ workload: ctx.workload, request: { principal: peer, protocol: 'TCP', port: ctx.port, sourceIp } });
  const trace = continueTrace(undefined, undefined);
  const rec = (status: 'allow' | 'deny', bytesIn: number, bytesOut: number, reason: string | null): AuditRecordInput => ({
    time,
    kind: 'tcp',
    caller: peer,
    destination: ctx.destination,
    source,
    sni: typeof (socket as TLSSocket).servername === 'string' ? ((socket as TLSSocket).servername as string) : null,
    decision: status,
    policy: decision.policy ?? null,
    rule: decision.rule === undefined ? null : String(decision.rule),
    status: null,
    bytesIn,
    bytesOut,
    durationMs: Number(process.hrtime.bigint() - start) / 1e6,
    traceparent: trace.traceparent,
    reason,
  });
  if (!decision.allowed) {
    ctx.metrics.denial(decision.policy ?? null);
    ctx.metrics.observeRequest({ caller: peer, destination: ctx.destination, decision: 'deny', status: 403 });
    socket.pause();
    ctx.auditor.recordDenial(rec('deny', 0, 0, decision.reason)).finally(() => socket.destroy());
    return;
  }
  const upstream = connect({ host: ctx.app.host, port: ctx.app.port });
  let bytesIn = 0;
  let bytesOut = 0;
  socket.on('data', (c: Buffer) => (bytesIn += c.length));
  upstream.on('data', (c: Buffer) => (bytesOut += c.length));
  socket.pipe(upstream);
  upstream.pipe(socket);
  let closed = false;
  const close = (reason: string | null) => {
    if (closed) return;
    closed = true;
    socket.destroy();
    upstream.destroy();
    ctx.metrics.observeRequest({ caller: peer, destination: ctx.destination, decision: 'allow', status: 200, durationSeconds: Number(process.hrtime.bigint() - start) / 1e9 });
    ctx.auditor.recordAllowed(rec('allow', bytesIn, bytesOut, reason));
  };
  socket.on('close', () => close(null));
  upstream.on('close', () => close(null));
  socket.on('error', (e: NodeJS.ErrnoException) => close(`client: ${e.code ?? 'error'}`));
  upstream.on('error', (e: NodeJS.ErrnoException) => close(`app: ${e.code ?? 'error'}`));
}
