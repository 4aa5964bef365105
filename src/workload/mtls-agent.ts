/**
 * An undici dispatcher that speaks mTLS with SPIFFE authorization:
 * `fetch(url, { dispatcher: new MtlsAgent({ source, authorize }) })`.
 *
 * Each new connection presents the source's current SVID (so rotation needs
 * no restart), skips the hostname check (SPIFFE IDs are not host names), and
 * verifies the server's chain against the bundle of the server's trust domain
 * before any request is written. Client TLS session caching is off, so no
 * connection ever skips the check (Node CVE-2020-8172, CVE-2026-48934).
 */
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { Agent, buildConnector } from 'undici';
import type { Authorizer } from '../spiffe/authorizers.js';
import type { X509BundleSource, X509SvidSource } from '../spiffe/sources.js';
import { secureContextFor } from './secure-context-cache.js';
import { verifyTlsPeer } from './verify-peer.js';

export interface MtlsAgentOptions {
  /** Our SVID and the trusted bundles (an X509Source, or static values). */
  source: X509SvidSource & X509BundleSource;
  /** Which server identities we accept. There is no default: pass `authorizeId(...)` or similar. */
  authorize: Authorizer;
  /** Extra undici Agent options (timeouts, pool sizes). TLS options here are ignored. */
  agentOptions?: Omit<ConstructorParameters<typeof Agent>[0], 'connect'>;
}

export class MtlsAgent extends Agent {
  constructor(options: MtlsAgentOptions) {
    const { source, authorize } = options;
    if (typeof authorize !== 'function') throw new TypeError('MtlsAgent needs an authorize function');
    const connect: buildConnector.connector = (opts, callback) => {
      const svid = source.getX509Svid();
      const socket: TLSSocket = tlsConnect({
        host: opts.hostname,
        port: Number(opts.port) || 443,
        secureContext: secureContextFor(svid),
        minVersion: 'TLSv1.3',
        rejectUnauthorized: false,
        ALPNProtocols: ['http/1.1'],
      });
      let settled = false;
      const finish = (err: Error | null) => {
        if (settled) return;
        settled = true;
        if (err) {
          socket.destroy();
          callback(err, null);
        } else {
          callback(null, socket);
        }
      };
      socket.once('secureConnect', () => {
        try {
          verifyTlsPeer(socket, source, authorize);
          finish(null);
        } catch (err) {
          finish(err as Error);
        }
      });
      socket.once('error', (err) => finish(err));
      return socket;
    };
    super({ ...options.agentOptions, connect });
  }
}
