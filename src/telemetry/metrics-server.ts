/**
 * `/metrics` for Prometheus, on its own (loopback) port: a request handler
 * for node:http and a helper that starts the server. Only GET/HEAD /metrics;
 * everything else is 404/405.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export function createMetricsHandler(registry: Registry, path = '/metrics'): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    if (url !== path) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('method not allowed\n');
      return;
    }
    registry.metrics().then(
      (body) => {
        res.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      () => {
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('metrics unavailable\n');
      },
    );
  };
}

export interface MetricsServerOptions {
  readonly registry: Registry;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port: number;
}

/** Starts the metrics server; resolves once it listens. `server.address()` tells the port. */
export function startMetricsServer(options: MetricsServerOptions): Promise<Server & { port: number }> {
  const server = createServer({ maxHeaderSize: 8 * 1024, requestTimeout: 10_000, headersTimeout: 5_000 }, createMetricsHandler(options.registry));
  server.keepAliveTimeout = 5_000;
  server.maxRequestsPerSocket = 1_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve(Object.assign(server, { port: (server.address() as AddressInfo).port }));
    });
  });
}
