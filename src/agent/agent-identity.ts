/**
 * The agent's own identity: attestation with a join token (first start),
 * renewal with the stored SVID (every later start, and at half lifetime),
 * and the mTLS dispatcher that presents it to the server. Keys are made
 * here; the server only ever sees CSRs. The server is trusted through the
 * operator's bundle file until the server's own bundle is known, and it must
 * present `spiffe://<td>/meshward/server`.
 */
import { generateKeyPairSync } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { Agent, buildConnector } from 'undici';
import { createCsr } from '../ca/csr-builder.js';
import { authorizeId } from '../spiffe/authorizers.js';
import { Bundle } from '../spiffe/bundle.js';
import { encodePem } from '../spiffe/pem.js';
import { SpiffeId } from '../spiffe/spiffe-id.js';
import type { TrustDomain } from '../spiffe/trust-domain.js';
import { X509Svid } from '../spiffe/x509/x509-svid.js';
import { MtlsAgent } from '../workload/mtls-agent.js';
import { verifyTlsPeer } from '../workload/verify-peer.js';
import { AgentError } from './agent-error.js';
import { AGENT_KEY_FILE, AGENT_SVID_FILE, BUNDLE_FILE, type DataDir } from './data-dir.js';
import type { ServerClient } from './server-client.js';

export const SERVER_PATH = '/meshward/server';

export interface AgentIdentityOptions {
  readonly dataDir: DataDir;
  readonly client: ServerClient;
  /** CA certificates from the operator's trust bundle file (needed when there is no stored bundle). */
  readonly trustRoots: readonly Buffer[] | undefined;
  /** Expected trust domain; when absent, the one the trust bundle vouches for. */
  readonly trustDomain: string | undefined;
  readonly joinToken: string | undefined;
  readonly now?: () => number;
}

type KeyPair = ReturnType<typeof generateKeyPairSync>;

export class AgentIdentity extends EventEmitter {
  readonly #opts: AgentIdentityOptions;
  readonly #now: () => number;
  #svid: X509Svid | undefined;
  #bundle: Bundle | undefined;
  #dispatcher: MtlsAgent | undefined;

  constructor(options: AgentIdentityOptions) {
    super();
    this.#opts = options;
    this.#now = options.now ?? Date.now;
  }

  get svid(): X509Svid | undefined {
    return this.#svid;
  }

  get bundle(): Bundle | undefined {
    return this.#bundle;
  }

  get trustDomain(): TrustDomain | undefined {
    return this.#svid?.id.trustDomain;
  }

  get serverId(): string {
    return `spiffe://${this.trustDomain!.name}${SERVER_PATH}`;
  }

  /** The mTLS dispatcher presenting the agent SVID; replaced after each renewal. */
  get dispatcher(): MtlsAgent {
    if (this.#dispatcher === undefined) throw new AgentError('ERR_AGENT_NOT_ATTESTED', 'the agent has no SVID yet');
    return this.#dispatcher;
  }

  /**
   * First start: attest with the join token. Later starts: renew with the
   * stored SVID. Returns how it went. A stored SVID refused by the server
   * (banned, evicted, replaced) falls back to the join token only when one is given.
   */
  async start(): Promise<'attested' | 'renewed' | 'stored'> {
    const stored = this.#loadStored();
    if (stored !== undefined && stored.svid.expiresAt.getTime() > this.#now()) {
      this.#install(stored.svid, stored.bundle);
      try {
        await this.renew();
        return 'renewed';
      } catch (err) {
        if (err instanceof AgentError && err.code === 'ERR_AGENT_SERVER_UNREACHABLE') return 'stored'; // keep the valid SVID; renewal is retried
        if (this.#opts.joinToken === undefined) {
          throw new AgentError(err instanceof AgentError && err.code === 'ERR_AGENT_BANNED' ? 'ERR_AGENT_BANNED' : 'ERR_AGENT_NOT_ATTESTED', `the server refused the stored agent SVID (${(err as Error).message}); attest again with a new join token`, { cause: err });
        }
      }
    }
    if (this.#opts.joinToken === undefined) {
      throw new AgentError('ERR_AGENT_NOT_ATTESTED', stored === undefined ? 'no agent SVID in the data directory: a join token is needed for the first start (--join-token)' : 'the stored agent SVID has expired: attest again with a new join token (--join-token)');
    }
    await this.#attest(this.#opts.joinToken);
    return 'attested';
  }

  /** A new SVID for a new key, over mTLS with the current one. */
  async renew(): Promise<void> {
    const svid = this.#svid;
    if (svid === undefined) throw new AgentError('ERR_AGENT_NOT_ATTESTED', 'the agent has no SVID to renew');
    const key = newKey();
    const answer = await this.#opts.client.call<{ spiffeId: string; chainPem: string }>(this.dispatcher, 'POST', '/agent/v1/renew', { csr: csrPem(key) });
    const renewed = this.#accept(answer.chainPem, key, svid.id.toString());
    this.#persist(renewed, this.#bundle!);
    this.#install(renewed, this.#bundle!);
    this.emit('renewed', renewed);
  }

  /** A newer bundle of our trust domain from the server: used for the server's TLS check and stored. */
  setBundle(bundle: Bundle): void {
    if (this.#bundle !== undefined && this.#bundle.equals(bundle)) {
      this.#bundle = bundle; // the same content: keep the caller's object, so its next equals() is a reference check
      return;
    }
    this.#bundle = bundle;
    this.#opts.dataDir.write(BUNDLE_FILE, JSON.stringify(bundle.toJSON()));
  }

  async close(): Promise<void> {
    await this.#dispatcher?.destroy();
    this.#dispatcher = undefined;
  }

  async #attest(token: string): Promise<void> {
    const roots = this.#opts.trustRoots;
    if (roots === undefined || roots.length === 0) throw new AgentError('ERR_AGENT_TRUST_BUNDLE', 'a trust bundle (--trust-bundle) is needed to attest: the server is verified against it');
    const bootstrap = bootstrapDispatcher(roots, this.#opts.trustDomain);
    try {
      const key = newKey();
      const answer = await this.#opts.client.call<{ spiffeId: string; chainPem: string; bundle: unknown }>(bootstrap, 'POST', '/agent/v1/attest', { joinToken: token, csr: csrPem(key) });
      const svid = this.#accept(answer.chainPem, key, undefined);
      let bundle: Bundle;
      try {
        bundle = Bundle.parse(JSON.stringify(answer.bundle), svid.id.trustDomain);
      } catch (err) {
        throw new AgentError('ERR_AGENT_ATTESTATION_FAILED', `attestation answer: bad bundle: ${(err as Error).message}`, { cause: err });
      }
      this.#persist(svid, bundle);
      this.#install(svid, bundle);
    } finally {
      await bootstrap.destroy();
    }
  }

  #accept(chainPem: string, key: KeyPair, expectedId: string | undefined): X509Svid {
    let svid: X509Svid;
    try {
      svid = X509Svid.parse(chainPem, key.privateKey.export({ type: 'pkcs8', format: 'der' }));
    } catch (err) {
      throw new AgentError('ERR_AGENT_ATTESTATION_FAILED', `the server's agent SVID is not usable: ${(err as Error).message}`, { cause: err });
    }
    if (expectedId !== undefined && svid.id.toString() !== expectedId) throw new AgentError('ERR_AGENT_ATTESTATION_FAILED', `renewal returned another ID (${svid.id}), expected ${expectedId}`);
    if (this.#opts.trustDomain !== undefined && svid.id.trustDomain.name !== this.#opts.trustDomain) {
      throw new AgentError('ERR_AGENT_ATTESTATION_FAILED', `the agent SVID is in trust domain ${svid.id.trustDomain.name}, expected ${this.#opts.trustDomain}`);
    }
    return svid;
  }

  #persist(svid: X509Svid, bundle: Bundle): void {
    // Key first, then chain: a crash in between leaves a key with the old chain, which the
    // mismatch check below refuses on the next start (then the join token path is needed).
    this.#opts.dataDir.writeAll([
      [AGENT_KEY_FILE, svid.privateKeyPem()],
      [AGENT_SVID_FILE, svid.certificatesPem()],
      [BUNDLE_FILE, JSON.stringify(bundle.toJSON())],
    ]);
  }

  #install(svid: X509Svid, bundle: Bundle): void {
    const old = this.#dispatcher;
    this.#svid = svid;
    this.#bundle = bundle;
    const source = {
      getX509Svid: () => this.#svid!,
      getX509BundleForTrustDomain: (td: TrustDomain) => (td.name === this.#bundle?.trustDomain.name ? this.#bundle : undefined),
    };
    this.#dispatcher = new MtlsAgent({ source, authorize: authorizeId(`spiffe://${svid.id.trustDomain.name}${SERVER_PATH}`), agentOptions: { connections: 16, keepAliveTimeout: 30_000 } });
    // The server refuses a replaced serial on every request: old connections must go.
    if (old !== undefined) setTimeout(() => void old.destroy().catch(() => undefined), 2000).unref();
  }

  #loadStored(): { svid: X509Svid; bundle: Bundle } | undefined {
    const dir = this.#opts.dataDir;
    const chain = dir.read(AGENT_SVID_FILE);
    const key = dir.read(AGENT_KEY_FILE);
    if (chain === undefined || key === undefined) return undefined;
    let svid: X509Svid;
    try {
      svid = X509Svid.parse(chain, key);
    } catch {
      return undefined; // unusable (e.g. a crash between the key and the chain): treated as absent
    }
    let bundle: Bundle | undefined;
    const doc = dir.read(BUNDLE_FILE);
    if (doc !== undefined) {
      try {
        bundle = Bundle.parse(doc, svid.id.trustDomain);
      } catch {
        bundle = undefined;
      }
    }
    if (bundle === undefined) {
      if (this.#opts.trustRoots === undefined) return undefined;
      bundle = new Bundle(svid.id.trustDomain, { x509Authorities: this.#opts.trustRoots });
    }
    return { svid, bundle };
  }
}

function newKey(): KeyPair {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' });
}

function csrPem(key: KeyPair): string {
  return encodePem('CERTIFICATE REQUEST', createCsr(key.privateKey, key.publicKey));
}

/**
 * TLS 1.3 without a client certificate, verifying the server's chain against
 * the operator's roots and requiring the server ID (in the expected trust
 * domain, or in the one whose chain the roots verify). No session reuse.
 */
function bootstrapDispatcher(roots: readonly Buffer[], trustDomain: string | undefined): Agent {
  const bundles = {
    getX509BundleForTrustDomain: (td: TrustDomain) => (trustDomain === undefined || td.name === trustDomain ? new Bundle(td, { x509Authorities: roots }) : undefined),
  };
  const authorize = (id: SpiffeId): boolean => id.path === SERVER_PATH && (trustDomain === undefined || id.trustDomain.name === trustDomain);
  const connect: buildConnector.connector = (opts, callback) => {
    const socket: TLSSocket = tlsConnect({ host: opts.hostname, port: Number(opts.port) || 443, minVersion: 'TLSv1.3', rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] });
    let settled = false;
    const finish = (err: Error | null): void => {
      if (settled) return;
      settled = true;
      if (err) {
        socket.destroy();
        callback(err, null);
      } else callback(null, socket);
    };
    socket.once('secureConnect', () => {
      try {
        verifyTlsPeer(socket, bundles, authorize);
        finish(null);
      } catch (err) {
        finish(err as Error);
      }
    });
    socket.once('error', (err) => finish(err));
    return socket;
  };
  return new Agent({ connect, connections: 1 });
}
