/**
 * The agent's two local plain-HTTP listeners: health (`/live`, `/ready`)
 * and Prometheus metrics (`/metrics`). GET only, no bodies, small limits.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HostPort } from './config.js';

export interface LocalHttp {
  readonly url: string;
  close(): Promise<void>;
}

export type Route = () => Promise<{ status: number; type: string; body: string }>;

export async function startLocalHttp(bind: HostPort, routes: Record<string, Route>): Promise<LocalHttp> {
  const server: Server = createServer({ maxHeaderSize: 8192, requestTimeout: 10_000 }, (req, res) => {
    const path = (req.url ?? '').split('?')[0]!;
    const route = Object.hasOwn(routes, path) ? routes[path] : undefined;
    if (req.method !== 'GET' || route === undefined) {
      res.writeHead(req.method !== 'GET' ? 405 : 404, { 'content-type': 'text/plain' }).end(req.method !== 'GET' ? 'method not allowed\n' : 'not found\n');
      return;
    }
    route().then(
      (r) => res.writeHead(r.status, { 'content-type': r.type, 'cache-control': 'no-store' }).end(r.body),
      () => res.writeHead(500, { 'content-type': 'text/plain' }).end('internal error\n'),
    );
  });
  server.maxConnections = 256;
  server.headersTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(bind.port, bind.host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${host}:${addr.port}`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
