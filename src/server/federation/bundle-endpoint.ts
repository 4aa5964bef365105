/**
 * Our SPIFFE bundle endpoint (SPIFFE_Federation.md): an HTTPS listener
 * answering `GET /` with the trust domain's bundle (`spiffe_refresh_hint`
 * set), 405 for other methods, 404 for other paths. No client
 * authentication. Profiles:
 * - https_spiffe: serves an X.509-SVID for `spiffe://TD/meshward/server`
 *   minted from our CA, re-minted at half its lifetime;
 * - https_web: serves the configured certificate and key files (re-read at
 *   each rotation tick, so a renewed certificate is picked up).
 */
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { SecureContextOptions } from 'node:tls';
import { encodePem } from '../../spiffe/pem.js';
import type { ServerContext } from '../server-context.js';
import type { BundleEndpointConfig } from './config.js';
import { FederationError } from './federation-error.js';
import { realTimers, type Timers } from './timers.js';

export const DEFAULT_REFRESH_HINT_SECONDS = 300;
/** How often https_web re-reads its certificate files. */
const WEB_CERT_RELOAD_MS = 10 * 60 * 1000;
const MIN_ROTATION_MS = 10 * 1000;

export interface BundleEndpoint {
  /** The bound port (useful with port 0). */
  readonly port: number;
  readonly address: string;
  /** Serial of the SVID currently served (https_spiffe). */
  readonly servingSerial: string | undefined;
  close(): Promise<void>;
}

export async function startBundleEndpoint(ctx: ServerContext, config: BundleEndpointConfig, timers: Timers = realTimers): Promise<BundleEndpoint> {
  const refreshHint = config.refreshHint ?? DEFAULT_REFRESH_HINT_SECONDS;
  let servingSerial: string | undefined;

  const credentials = (): { cert: string; key: string; refreshInMs: number } => {
    if (config.profile === 'https_web') {
      if (config.certFile === undefined || config.keyFile === undefined) {
        throw new FederationError('ERR_FEDERATION_CONFIG', 'the https_web bundle endpoint needs cert_file and key_file');
      }
      try {
        return { cert: readFileSync(config.certFile, 'utf8'), key: readFileSync(config.keyFile, 'utf8'), refreshInMs: WEB_CERT_RELOAD_MS };
      } catch (err) {
        throw new FederationError('ERR_FEDERATION_SERVING_CERT', `cannot read the bundle endpoint certificate or key: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
    }
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const now = ctx.now();
    const mint = ctx.ca.mintX509Svid({ spiffeId: `spiffe://${ctx.trustDomain.name}/meshward/server`, publicKey, ttlSeconds: ctx.defaults.x509SvidTtlSeconds, now });
    servingSerial = mint.serialNumber;
    const lifetime = mint.expiresAt.getTime() - now.getTime();
    return {
      cert: mint.chain.map((der) => encodePem('CERTIFICATE', der)).join(''),
      key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      refreshInMs: Math.max(MIN_ROTATION_MS, Math.floor(lifetime / 2)),
    };
  };

  const tlsOptions = (c: { cert: string; key: string }): SecureContextOptions => ({ cert: c.cert, key: c.key, minVersion: 'TLSv1.3' });
  const first = credentials();
  const server: Server = createServer(
    {
      ...tlsOptions(first),
      requestCert: false,
      maxHeaderSize: 8 * 1024,
      requestTimeout: 10_000,
      headersTimeout: 5_000,
      keepAliveTimeout: 5_000,
    },
    (req, res) => {
      const path = (req.url ?? '').split('?')[0];
      if (path !== '/') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
        return;
      }
      if (req.method !== 'GET') {
        res.writeHead(405, { allow: 'GET', 'content-type': 'text/plain' }).end('method not allowed\n');
        return;
      }
      let body: string;
      try {
        body = JSON.stringify(ctx.ca.bundle().with({ refreshHint }).toJSON());
      } catch (err) {
        ctx.log.error({ err }, 'bundle endpoint: cannot build the bundle');
        res.writeHead(500, { 'content-type': 'text/plain' }).end('internal error\n');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(body);
    },
  );
  server.maxConnections = 1024;

  let timer: unknown;
  let closed = false;
  const schedule = (ms: number): void => {
    timer = timers.setTimeout(() => {
      if (closed) return;
      try {
        const next = credentials();
        server.setSecureContext(tlsOptions(next));
        schedule(next.refreshInMs);
      } catch (err) {
        ctx.log.error({ err }, 'bundle endpoint: could not renew the serving certificate; retrying');
        schedule(MIN_ROTATION_MS);
      }
    }, ms);
  };

  const address = config.address ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, address, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('tlsClientError', (err) => ctx.log.debug({ err }, 'bundle endpoint: TLS handshake failed'));
  schedule(first.refreshInMs);
  const port = (server.address() as AddressInfo).port;
  ctx.log.info({ address, port, profile: config.profile }, 'bundle endpoint listening');

  return {
    port,
    address,
    get servingSerial() {
      return servingSerial;
    },
    async close() {
      closed = true;
      timers.clearTimeout(timer);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
