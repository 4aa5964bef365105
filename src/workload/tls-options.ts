/**
 * Node `tls` options for mTLS with SPIFFE authorization (go-spiffe's
 * `tlsconfig.MTLSServerConfig` / `MTLSClientConfig`).
 *
 * - No hostname check: the peer is identified by its SPIFFE ID, verified
 *   against the bundle of the peer's own trust domain, then authorized.
 * - TLS 1.3 by default; TLS 1.2 only when asked, with AEAD suites only.
 * - Session resumption is off on every path: servers issue no tickets
 *   (`SSL_OP_NO_TICKET`; with TLS 1.3 OpenSSL then falls back to stateful
 *   tickets, which need a session cache, and Node's internal server cache
 *   is off while we register no `resumeSession` listener), clients are never
 *   given a session. The SPIFFE check therefore runs on every connection.
 * - Renegotiation is refused (`SSL_OP_NO_RENEGOTIATION`).
 *
 * The SERVER half cannot be enforced by options alone: Node's TLS server has
 * no per-connection verification callback. `tlsServerOptions` sets
 * `requestCert` and leaves chain checking to `protectTlsServer(server, …)`,
 * which runs `verifyTlsPeer` on every `secureConnection` before any
 * application byte is read; `createMtlsServer` does both for you.
 */
import { constants as cryptoConstants } from 'node:crypto';
import type { ConnectionOptions, DetailedPeerCertificate, PeerCertificate, SecureContextOptions, TlsOptions } from 'node:tls';
import type { Authorizer } from '../spiffe/authorizers.js';
import type { Bundle } from '../spiffe/bundle.js';
import type { X509BundleSource, X509SvidSource } from '../spiffe/sources.js';
import type { X509Svid } from '../spiffe/x509/x509-svid.js';
import { verifyPeerCertificate } from './verify-peer.js';

export type MtlsSource = X509SvidSource & X509BundleSource;

export interface MtlsTlsOptions {
  /** `TLSv1.3` (default) or `TLSv1.2` (AEAD suites only). */
  readonly minVersion?: 'TLSv1.2' | 'TLSv1.3';
}

/** No tickets, no renegotiation. */
export const MTLS_SECURE_OPTIONS = cryptoConstants.SSL_OP_NO_TICKET | cryptoConstants.SSL_OP_NO_RENEGOTIATION;

/** TLS 1.3 suites plus ECDHE AEAD suites for TLS 1.2. */
const AEAD_CIPHERS = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

function checkMinVersion(options: MtlsTlsOptions | undefined): 'TLSv1.2' | 'TLSv1.3' {
  const v = options?.minVersion ?? 'TLSv1.3';
  if (v !== 'TLSv1.2' && v !== 'TLSv1.3') throw new RangeError('minVersion must be "TLSv1.2" or "TLSv1.3"');
  return v;
}

export function checkMtlsArguments(source: unknown, authorize: unknown): asserts source is MtlsSource {
  if (typeof source !== 'object' || source === null || typeof (source as MtlsSource).getX509Svid !== 'function' || typeof (source as MtlsSource).getX509BundleForTrustDomain !== 'function') {
    throw new TypeError('source must implement getX509Svid() and getX509BundleForTrustDomain(trustDomain)');
  }
  if (typeof authorize !== 'function') throw new TypeError('an authorizer is required (authorizeId(...), authorizeMemberOf(...), ...): there is no default');
}

/** The secure-context part of server options: what `setSecureContext` needs on each rotation. */
export function serverContextOptions(svid: X509Svid, options?: MtlsTlsOptions): SecureContextOptions & { secureOptions: number } {
  const minVersion = checkMinVersion(options);
  return {
    cert: svid.certificatesPem(),
    key: svid.privateKeyPem(),
    minVersion,
    ...(minVersion === 'TLSv1.2' ? { ciphers: AEAD_CIPHERS } : {}),
    secureOptions: MTLS_SECURE_OPTIONS,
    // A session cache keyed by nothing useful: resumption is refused anyway.
    sessionTimeout: 1,
  };
}

/**
 * Options for `tls.createServer` / `https.createServer` / `http2.createSecureServer`.
 * Pair with `protectTlsServer` (or use `createMtlsServer`): the options ask
 * for a client certificate, the protection verifies it on every connection.
 */
export function tlsServerOptions(source: MtlsSource, authorizer: Authorizer, options?: MtlsTlsOptions): TlsOptions {
  checkMtlsArguments(source, authorizer);
  return {
    ...serverContextOptions(source.getX509Svid(), options),
    requestCert: true,
    // Node's own check would use a merged CA list and no authorizer: ours runs instead, per connection.
    rejectUnauthorized: false,
  };
}

/**
 * Options for `tls.connect` / `https.request` / `http2.connect`. The server's
 * chain is verified against the bundle of ITS trust domain and authorized in
 * `checkServerIdentity`, with `rejectUnauthorized: true` so a failure closes
 * the connection. OpenSSL needs roots to reach that callback, so `ca` holds
 * the X.509 authorities of every trust domain the source lists (a coarse
 * pre-check only; the per-trust-domain check is the one that decides).
 *
 * The options are a snapshot of the source: call this for each new
 * connection (or use `MtlsAgent`), and never combine it with a session
 * cache (`https.Agent` needs `maxCachedSessions: 0`): Node skips
 * `checkServerIdentity` on a resumed session.
 */
export function tlsClientOptions(source: MtlsSource, authorizer: Authorizer, options?: MtlsTlsOptions): ConnectionOptions {
  checkMtlsArguments(source, authorizer);
  const svid = source.getX509Svid();
  const minVersion = checkMinVersion(options);
  return {
    cert: svid.certificatesPem(),
    key: svid.privateKeyPem(),
    ca: trustedRootsPem(source, svid),
    minVersion,
    ...(minVersion === 'TLSv1.2' ? { ciphers: AEAD_CIPHERS } : {}),
    secureOptions: MTLS_SECURE_OPTIONS,
    rejectUnauthorized: true,
    session: undefined,
    checkServerIdentity: (_host: string, cert: PeerCertificate) => {
      try {
        verifyPeerCertificate(cert as DetailedPeerCertificate, source, authorizer);
        return undefined;
      } catch (err) {
        return err as Error;
      }
    },
  };
}

/** Every X.509 authority the source can list (all bundles of a BundleSet or live source; else our own trust domain's). */
export function trustedRootsPem(source: X509BundleSource, svid: X509Svid): string[] {
  const listed = (source as { bundles?: () => Bundle[] }).bundles;
  const bundles: Bundle[] = typeof listed === 'function' ? listed.call(source) : [];
  if (bundles.length === 0) {
    const own = source.getX509BundleForTrustDomain(svid.id.trustDomain);
    if (own) bundles.push(own);
  }
  const pems: string[] = [];
  for (const b of bundles) if (b.x509Authorities().length > 0) pems.push(b.toPem());
  return pems;
}
