/**
 * The CLI's client of the server's admin API (docs/server-api.md): over the
 * local admin socket, or over mTLS to `--server URL` with an admin SVID. The
 * server's identity is checked: it must present `spiffe://TD/meshward/server`.
 */
import { request, Agent, type Dispatcher } from 'undici';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { authorizeId } from '../spiffe/authorizers.js';
import { Bundle } from '../spiffe/bundle.js';
import { trustDomainOfAuthorities } from '../spiffe/bundle-trust-domain.js';
import { SpiffeId } from '../spiffe/spiffe-id.js';
import { X509Svid } from '../spiffe/x509/x509-svid.js';
import { MtlsAgent } from '../workload/mtls-agent.js';
import { StaticX509Source } from '../workload/static-source.js';
import { UsageError } from './usage-error.js';
import { AdminApiError } from './admin-api-error.js';

export { AdminApiError };

export interface AdminConnection {
  adminSocket: string;
  server?: string;
  adminSvidDir?: string;
}

export class AdminClient {
  readonly #dispatcher: Dispatcher;
  readonly #origin: string;
  readonly #where: string;

  constructor(connection: AdminConnection) {
    if (connection.server) {
      const url = parseServerUrl(connection.server);
      if (!connection.adminSvidDir) throw new UsageError('--server needs --admin-svid-dir (a directory with svid.pem, svid.key and bundle.pem, as "x509 mint" writes)');
      this.#dispatcher = mtlsDispatcher(connection.adminSvidDir);
      this.#origin = url.origin;
      this.#where = `server ${url.origin}`;
    } else {
      this.#dispatcher = new Agent({ connect: { socketPath: connection.adminSocket } });
      this.#origin = 'http://localhost';
      this.#where = `admin socket ${connection.adminSocket}`;
    }
  }

  async call<T>(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<T> {
    let response: Dispatcher.ResponseData;
    try {
      response = await request(this.#origin + path, {
        method,
        dispatcher: this.#dispatcher,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        headersTimeout: 30_000,
        bodyTimeout: 60_000,
      });
    } catch (err) {
      const cause = (err as { cause?: Error }).cause ?? (err as Error);
      const code = (cause as NodeJS.ErrnoException).code ?? (err as NodeJS.ErrnoException).code;
      throw new AdminApiError(0, 'ERR_CLI_UNREACHABLE', `cannot reach the ${this.#where} (${code ?? cause.message}); is "meshward server run" running?`);
    }
    const text = await response.body.text();
    const isJson = String(response.headers['content-type'] ?? '').includes('json');
    const parsed: unknown = isJson && text.length > 0 ? JSON.parse(text) : text;
    if (response.statusCode >= 400) {
      const error = (parsed as { error?: { code?: string; message?: string; field?: string } })?.error;
      throw new AdminApiError(response.statusCode, error?.code ?? `HTTP_${response.statusCode}`, error?.message ?? `server answered ${response.statusCode}`, error?.field);
    }
    return parsed as T;
  }

  async close(): Promise<void> {
    await this.#dispatcher.close();
  }
}

function parseServerUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--server: "${text}" is not a URL (expected https://HOST:PORT)`);
  }
  if (url.protocol !== 'https:' || url.username || url.password || (url.pathname !== '/' && url.pathname !== '')) {
    throw new UsageError(`--server: "${text}" must be https://HOST:PORT, with no path or credentials`);
  }
  return url;
}

function mtlsDispatcher(dir: string): Dispatcher {
  const read = (name: string) => {
    try {
      return readFileSync(join(dir, name), 'utf8');
    } catch (err) {
      throw new UsageError(`--admin-svid-dir ${dir}: cannot read ${name} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  };
  let svid: X509Svid;
  let bundle: Bundle;
  try {
    svid = X509Svid.parse(read('svid.pem'), read('svid.key'));
    const provisional = Bundle.fromX509Pem(read('bundle.pem'), svid.id.trustDomain);
    const td = trustDomainOfAuthorities(provisional.x509Authorities());
    bundle = typeof td === 'string' ? provisional : new Bundle(td, { x509Authorities: provisional.x509Authorities() });
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`--admin-svid-dir ${dir}: ${(err as Error).message}`);
  }
  const serverId = SpiffeId.fromPath(bundle.trustDomain, '/meshward/server');
  return new MtlsAgent({ source: new StaticX509Source(svid, bundle), authorize: authorizeId(serverId) });
}
