/**
 * Forwarding to the app on loopback over a keep-alive pool: undici's Pool
 * driven through its dispatcher handler API, with no stream objects per
 * request (measured: ~1.5× the throughput of node:http's Agent + pipe at a
 * third less CPU, docs/benchmarks.md). The app receives the NORMALIZED path
 * that was authorized, our identity headers and none of the hop-by-hop ones.
 *
 * A small response with a known length is gathered and written to the client
 * in one write (headers and body in one TLS record); anything else streams
 * with backpressure. A client that goes away aborts the app request; a
 * request body the parser rejects midway aborts it too, so the app never
 * sees half a request as whole.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { Dispatcher, Pool as UndiciPool } from 'undici';
// undici's Pool module alone: its index also loads fetch, WebSocket and the
// caches (~8 MB of a sidecar's memory). The path is pinned by package-lock
// and exercised by every proxy test.
import Pool from 'undici/lib/dispatcher/pool.js';

type Pool = UndiciPool;
import { requestHeadersForApp, responseHeadersForClient } from './headers.js';
import type { Exchange } from './inbound-handler.js';

/** Responses up to this size with a content-length are written in one go. */
const GATHER_MAX_BYTES = 64 * 1024;

export interface AppForwarder {
  readonly host: string;
  readonly port: number;
  readonly pool: Pool;
  readonly timeoutMs: number;
}

export function createAppForwarder(host: string, port: number, connections: number, timeoutMs: number): AppForwarder {
  const pool = new Pool(`http://${host.includes(':') ? `[${host}]` : host}:${port}`, {
    connections,
    pipelining: 1,
    keepAliveTimeout: 30_000,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  return { host, port, pool, timeoutMs };
}

type Response = ServerResponse | Http2ServerResponse;

function fail(ex: Exchange, status: number, reason: string, onFinished: (ex: Exchange) => void): void {
  ex.status = status;
  ex.reason = reason;
  const res = ex.res as Response;
  if (!res.headersSent && !res.destroyed) {
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'x-request-id': ex.requestId });
    res.end(`${reason}\n`);
  } else {
    res.destroy();
  }
  onFinished(ex);
}

function timedOut(err: Error & { code?: string }): boolean {
  return err.code === 'UND_ERR_HEADERS_TIMEOUT' || err.code === 'UND_ERR_BODY_TIMEOUT' || err.code === 'UND_ERR_CONNECT_TIMEOUT';
}

/** True when the request carries no body, so none is sent (and nothing waits for one). */
function hasNoBody(req: Exchange['req']): boolean {
  const stream = (req as Http2ServerRequest).stream;
  if (stream !== undefined) return stream.endAfterHeaders || req.headers['content-length'] === '0';
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] === undefined && (length === undefined || length === '0');
}

async function* countedBody(ex: Exchange): AsyncGenerator<Buffer> {
  for await (const chunk of ex.req as IncomingMessage) {
    ex.bytesIn += (chunk as Buffer).length;
    yield chunk as Buffer;
  }
}

/** Relays one app response to the client (undici's dispatcher handler). */
class ResponseRelay implements Dispatcher.DispatchHandler {
  readonly #ex: Exchange;
  readonly #onFinished: (ex: Exchange) => void;
  #controller: Dispatcher.DispatchController | null = null;
  #gathered: Buffer[] | null = null;
  #headers: Record<string, string | string[]> | null = null;

  constructor(ex: Exchange, onFinished: (ex: Exchange) => void) {
    this.#ex = ex;
    this.#onFinished = onFinished;
  }

  /** The client went away: stop the app request too. */
  clientClosed(): void {
    const ex = this.#ex;
    if ((ex.res as Response).writableFinished) return;
    this.#controller?.abort(new Error('client went away'));
    if (ex.done) return;
    ex.reason = 'client went away';
    if (ex.status === 0) ex.status = 499;
    this.#onFinished(ex);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    if (statusCode < 200) return; // 1xx: the client's own server already handled Expect
    const ex = this.#ex;
    ex.status = statusCode;
    const out = responseHeadersForClient(headers);
    const length = Number(headers['content-length']);
    if (length >= 0 && length <= GATHER_MAX_BYTES) {
      this.#headers = out;
      this.#gathered = [];
      return;
    }
    const res = ex.res as Response;
    res.writeHead(statusCode, out);
    res.on('drain', () => controller.resume());
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    const ex = this.#ex;
    ex.bytesOut += chunk.length;
    if (this.#gathered !== null) {
      this.#gathered.push(chunk);
      return;
    }
    if (!(ex.res as ServerResponse).write(chunk)) controller.pause();
  }

  onResponseEnd(): void {
    const ex = this.#ex;
    const res = ex.res as Response;
    const gathered = this.#gathered;
    if (gathered !== null) {
      res.writeHead(ex.status, this.#headers!);
      res.end(gathered.length === 1 ? gathered[0]! : Buffer.concat(gathered));
    } else {
      res.end();
    }
    this.#onFinished(ex);
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error & { code?: string }): void {
    const ex = this.#ex;
    if (ex.done) return;
    if (timedOut(err)) return fail(ex, 504, 'app timed out', this.#onFinished);
    fail(ex, 502, `app unavailable (${err.code ?? 'error'})`, this.#onFinished);
  }
}

export function forwardToApp(app: AppForwarder, ex: Exchange, onFinished: (ex: Exchange) => void): void {
  const req = ex.req;
  const headers = requestHeadersForApp(req.rawHeaders, req.headers.connection, ex.host, ex.peer, ex.requestId, ex.trace.traceparent, ex.trace.tracestate, ex.stripAuthorization);
  // undici streams an async iterable body (its types list only Readable)
  const body = ex.body ?? (hasNoBody(req) ? null : (countedBody(ex) as unknown as Dispatcher.DispatchOptions['body']));
  const relay = new ResponseRelay(ex, onFinished);
  (ex.res as Response).once('close', () => relay.clientClosed());
  app.pool.dispatch({ method: ex.method as Dispatcher.HttpMethod, path: ex.forwardPath, headers, body }, relay);
}
