/**
 * Forwarding to the app on loopback over a keep-alive pool (node:http
 * Agent; measured against an undici Pool in bench/proxy.bench.ts — see
 * docs/proxy.md). The app receives the NORMALIZED path that was authorized,
 * our identity headers and none of the hop-by-hop ones. A client that goes
 * away aborts the app request; a request body the parser rejects midway
 * (bad chunk) aborts it too, so the app never sees half a request as whole.
 */
import { Agent, request as httpRequest, type IncomingMessage } from 'node:http';
import type { Http2ServerResponse } from 'node:http2';
import type { ServerResponse } from 'node:http';
import { requestHeadersForApp, responseHeadersForClient } from './headers.js';
import type { Exchange } from './inbound-handler.js';

export interface AppForwarder {
  readonly host: string;
  readonly port: number;
  readonly agent: Agent;
  readonly timeoutMs: number;
}

export function createAppForwarder(host: string, port: number, connections: number, timeoutMs: number): AppForwarder {
  return { host, port, timeoutMs, agent: new Agent({ keepAlive: true, maxSockets: connections, maxFreeSockets: connections, keepAliveMsecs: 30_000, scheduling: 'lifo' }) };
}

function fail(ex: Exchange, status: number, reason: string, onFinished: (ex: Exchange) => void): void {
  ex.status = status;
  ex.reason = reason;
  const res = ex.res;
  if (!res.headersSent && !res.destroyed) {
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'x-request-id': ex.requestId });
    res.end(`${reason}\n`);
  } else {
    res.destroy();
  }
  onFinished(ex);
}

export function forwardToApp(app: AppForwarder, ex: Exchange, onFinished: (ex: Exchange) => void): void {
  const req = ex.req;
  const res = ex.res;
  const headers = requestHeadersForApp(req.rawHeaders, req.headers.connection, ex.host, ex.peer, ex.requestId, ex.trace.traceparent, ex.trace.tracestate, ex.stripAuthorization);
  const preq = httpRequest({ host: app.host, port: app.port, method: ex.method, path: ex.forwardPath, headers, agent: app.agent, setHost: false });
  preq.setTimeout(app.timeoutMs, () => {
    preq.destroy();
    fail(ex, 504, 'app timed out', onFinished);
  });
  preq.on('response', (pres: IncomingMessage) => {
    ex.status = pres.statusCode ?? 502;
    (res as ServerResponse).writeHead(ex.status, responseHeadersForClient(pres.headers));
    pres.on('data', (chunk: Buffer) => {
      ex.bytesOut += chunk.length;
    });
    pres.pipe(res as ServerResponse);
    pres.on('end', () => onFinished(ex));
    pres.on('error', () => {
      res.destroy();
      onFinished(ex);
    });
  });
  preq.on('error', (err: NodeJS.ErrnoException) => {
    if (ex.done) return;
    fail(ex, 502, `app unavailable (${err.code ?? 'error'})`, onFinished);
  });
  res.on('close', () => {
    if (!(res as ServerResponse | Http2ServerResponse).writableFinished) {
      preq.destroy();
      if (!ex.done) {
        ex.reason = 'client went away';
        if (ex.status === 0) ex.status = 499;
        onFinished(ex);
      }
    }
  });
  if (ex.body !== null) {
    preq.end(ex.body);
    return;
  }
  req.on('data', (chunk: Buffer) => {
    ex.bytesIn += chunk.length;
  });
  req.on('error', () => preq.destroy());
  (req as NodeJS.ReadableStream).pipe(preq);
}
