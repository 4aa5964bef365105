/**
 * One fetch of a foreign bundle endpoint with undici: bounded time and size,
 * the profile's server check on every connection, redirects followed only
 * to https URLs through the same dispatcher (so the same profile and, for
 * https_spiffe, the same endpoint SPIFFE ID), never remembered.
 */
import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { Agent, request, type buildConnector, type Dispatcher } from 'undici';
import { authorizeId } from '../../spiffe/authorizers.js';
import { Bundle, MAX_BUNDLE_BYTES } from '../../spiffe/bundle.js';
import type { X509BundleSource } from '../../spiffe/sources.js';
import type { TrustDomain } from '../../spiffe/trust-domain.js';
import { verifyTlsPeer } from '../../workload/verify-peer.js';
import { FederationError } from './federation-error.js';

export const FETCH_TIMEOUT_MS = 10_000;
export const MAX_REDIRECTS = 3;

export interface FetchOptions {
  readonly timeoutMs?: number;
  readonly maxBytes?: number;
}

/**
 * https_spiffe: the server's chain is verified against `trust()` (the bundle
 * of the endpoint's trust domain, read at each connection) and its SPIFFE ID
 * must equal `endpointId`. No hostname check, no Node root store.
 */
export function spiffeDispatcher(endpointId: string, trust: () => X509BundleSource | undefined, now: () => Date): Dispatcher {
  const authorize = authorizeId(endpointId);
  const connect: buildConnector.connector = (opts, callback) => {
    const socket: TLSSocket = tlsConnect({
      host: opts.hostname,
      port: Number(opts.port) || 443,
      servername: isIP(opts.hostname) === 0 ? opts.hostname : undefined,
      minVersion: 'TLSv1.3',
      rejectUnauthorized: false,
      ALPNProtocols: ['http/1.1'],
    });
    let settled = false;
    const finish = (err: Error | null): void => {
      if (settled) return;
      settled = true;
      if (err === null) callback(null, socket);
      else {
        socket.destroy();
        callback(err, null);
      }
    };
    socket.once('secureConnect', () => {
      const bundles = trust();
      if (bundles === undefined) {
        finish(new FederationError('ERR_FEDERATION_NO_TRUST', `no bundle to verify ${endpointId} with: configure initial_bundle_file or set the bundle first`));
        return;
      }
      try {
        verifyTlsPeer(socket, bundles, authorize, now());
        finish(null);
      } catch (err) {
        finish(new FederationError('ERR_FEDERATION_PEER_IDENTITY', `bundle endpoint is not ${endpointId}: ${(err as Error).message}`, { cause: err }));
      }
    });
    socket.once('error', (err) => finish(err));
    return socket;
  };
  return new Agent({ connect, connections: 2, pipelining: 0 });
}

/**
 * https_web: Web PKI. The chain is checked by OpenSSL against `ca` (PEM) or,
 * without it, Node's public roots; the host name is matched with OpenSSL's
 * RFC 6125 check (X509Certificate.checkHost/checkIP), not Node's JavaScript
 * checkServerIdentity.
 */
export function webDispatcher(ca: string | undefined): Dispatcher {
  return new Agent({
    connect: {
      ...(ca === undefined ? {} : { ca }),
      rejectUnauthorized: true,
      minVersion: 'TLSv1.3',
      checkServerIdentity: (host, cert) => {
        const x509 = new X509Certificate(cert.raw);
        const ok = isIP(host) !== 0 ? x509.checkIP(host) !== undefined : x509.checkHost(host, { subject: 'default', wildcards: true, partialWildcards: false }) !== undefined;
        return ok ? undefined : new FederationError('ERR_FEDERATION_PEER_IDENTITY', `the bundle endpoint certificate is not valid for ${host}`);
      },
    },
    connections: 2,
    pipelining: 0,
  });
}

/** GET the bundle document and parse it as the bundle of `trustDomain` (and nothing else). */
export async function fetchBundle(url: string, trustDomain: TrustDomain, dispatcher: Dispatcher, options: FetchOptions = {}): Promise<Bundle> {
  const timeoutMs = options.timeoutMs ?? FETCH_TIMEOUT_MS;
  const maxBytes = options.maxBytes ?? MAX_BUNDLE_BYTES;
  const signal = AbortSignal.timeout(timeoutMs);
  let target = checkUrl(url);
  for (let hop = 0; ; hop++) {
    let res: Dispatcher.ResponseData;
    try {
      res = await request(target, { method: 'GET', dispatcher, signal, headersTimeout: timeoutMs, bodyTimeout: timeoutMs, headers: { accept: 'application/json' } });
    } catch (err) {
      if (err instanceof FederationError) throw err;
      const cause = (err as { cause?: unknown }).cause;
      if (cause instanceof FederationError) throw cause;
      throw new FederationError('ERR_FEDERATION_FETCH', `cannot fetch ${target.href}: ${(err as Error).message}`, { cause: err });
    }
    if (res.statusCode >= 300 && res.statusCode < 400) {
      await res.body.dump();
      const location = res.headers.location;
      if (typeof location !== 'string' || hop >= MAX_REDIRECTS) throw new FederationError('ERR_FEDERATION_REDIRECT', `${target.href} redirected ${hop >= MAX_REDIRECTS ? 'too many times' : 'without a location'}`);
      target = checkUrl(new URL(location, target).href);
      continue;
    }
    if (res.statusCode !== 200) {
      await res.body.dump();
      throw new FederationError('ERR_FEDERATION_HTTP_STATUS', `${target.href} answered ${res.statusCode}`);
    }
    const body = await readCapped(res.body, maxBytes, target.href);
    try {
      return Bundle.parse(body, trustDomain);
    } catch (err) {
      throw new FederationError('ERR_FEDERATION_BAD_BUNDLE', `${target.href} did not serve a valid SPIFFE bundle: ${(err as Error).message}`, { cause: err });
    }
  }
}

function checkUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new FederationError('ERR_FEDERATION_CONFIG', `not a URL: ${JSON.stringify(text.slice(0, 200))}`);
  }
  if (url.protocol !== 'https:') throw new FederationError('ERR_FEDERATION_REDIRECT', `bundle endpoints are https only, not ${url.protocol}`);
  if (url.username !== '' || url.password !== '') throw new FederationError('ERR_FEDERATION_CONFIG', 'a bundle endpoint URL has no user info');
  return url;
}

async function readCapped(body: Dispatcher.ResponseData['body'], maxBytes: number, where: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) {
      body.destroy();
      throw new FederationError('ERR_FEDERATION_TOO_LARGE', `${where} served more than ${maxBytes} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
