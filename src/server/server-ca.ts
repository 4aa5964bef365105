/**
 * This replica's CA: loaded from (or created in) DATA/ca, rotated on SPIRE's
 * schedule by calling `advance()` every 30 s, its authorities published to
 * the datastore after every change. The trust-domain bundle it serves holds
 * every replica's published authorities (and the upstream root), refreshed
 * when the change log says `authority`, so SVIDs minted by any replica
 * verify everywhere.
 */
import { existsSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import type { Logger } from 'pino';
import {
  initCaDirectory,
  loadCaDirectory,
  type CertificateAuthority,
  type KeyType,
  type MintJwtSvidRequest,
  type MintX509SvidRequest,
  type X509SvidMint,
} from '../ca/index.js';
import { Bundle } from '../spiffe/bundle.js';
import { importPublicJwk, publicJwkOf } from '../spiffe/jwk.js';
import type { TrustDomain } from '../spiffe/trust-domain.js';
import type { Datastore } from '../store/datastore.js';
import type { Change, PublishedAuthority } from '../store/types.js';
import type { ServerCa } from './server-context.js';
import { ServerError } from './server-error.js';
import { epochSeconds } from '../duration.js';

export const ADVANCE_INTERVAL_MS = 30_000;
const REFRESH_HINT_SECONDS = 300;

export interface ServerCaOptions {
  readonly dir: string;
  readonly trustDomain: TrustDomain;
  readonly keyType: KeyType;
  readonly ttlSeconds: number;
  readonly upstreamCertFile: string | undefined;
  readonly upstreamKeyFile: string | undefined;
  readonly kek: Buffer | undefined;
  readonly store: Datastore;
  readonly replicaId: string;
  readonly log: Logger;
  readonly clock: () => Date;
}

type OwnAuthority = Omit<PublishedAuthority, 'replicaId' | 'updatedAt'>;

export class ServerCaManager implements ServerCa {
  readonly #ca: CertificateAuthority;
  readonly #options: ServerCaOptions;
  #bundle: Bundle;
  #bundleKey = '';
  #sequence = 0;
  #timer: NodeJS.Timeout | undefined;
  #listeners = new Set<() => void>();

  private constructor(ca: CertificateAuthority, options: ServerCaOptions) {
    this.#ca = ca;
    this.#options = options;
    this.#bundle = ca.bundle();
  }

  /** Loads or creates the CA; does not touch the datastore yet (see `start`). */
  static open(options: ServerCaOptions): ServerCaManager {
    const { dir, trustDomain, kek } = options;
    let ca: CertificateAuthority;
    try {
      if (existsSync(join(dir, 'ca.json'))) {
        ca = loadCaDirectory(dir, { clock: options.clock, ...(kek === undefined ? {} : { kek }) });
        if (ca.trustDomain.name !== trustDomain.name) {
          throw new ServerError('ERR_SERVER_TRUST_DOMAIN_MISMATCH', 1, `the CA in ${dir} belongs to trust domain ${ca.trustDomain.name}, not ${trustDomain.name}; use another data_dir`);
        }
      } else {
        ca = initCaDirectory({
          dir,
          trustDomain,
          keyType: options.keyType,
          ttlSeconds: options.ttlSeconds,
          clock: options.clock,
          ...(options.upstreamCertFile === undefined ? {} : { upstreamCertFile: options.upstreamCertFile, upstreamKeyFile: options.upstreamKeyFile }),
          ...(kek === undefined ? {} : { kek }),
        });
        options.log.info({ dir, keyType: options.keyType }, 'created the CA');
      }
    } catch (err) {
      if (err instanceof ServerError) throw err;
      throw new ServerError('ERR_SERVER_CA', 1, `cannot load the CA in ${dir}: ${(err as Error).message}`, { cause: err });
    }
    return new ServerCaManager(ca, options);
  }

  /** Publishes our authorities, builds the bundle from every replica's, and starts the rotation timer. */
  async start(): Promise<void> {
    await this.publish();
    await this.refreshBundle();
    this.#timer = setInterval(() => void this.tick(), ADVANCE_INTERVAL_MS);
    this.#timer.unref();
  }

  close(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Called after the bundle changed. */
  onBundleChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  get authority(): CertificateAuthority {
    return this.#ca;
  }

  bundle(): Bundle {
    return this.#bundle;
  }

  mintX509Svid(request: MintX509SvidRequest): X509SvidMint {
    return this.#ca.mintX509Svid(request);
  }

  mintJwtSvid(request: MintJwtSvidRequest): string {
    return this.#ca.mintJwtSvid(request);
  }

  /** Rotation step: advance, and publish and rebuild the bundle when anything changed. */
  async tick(): Promise<void> {
    const log = this.#options.log;
    let changed = false;
    try {
      changed = this.#ca.advance(this.#options.clock());
    } catch (err) {
      log.error({ err: { code: (err as { code?: string }).code, message: (err as Error).message } }, 'CA rotation failed');
    }
    try {
      if (changed) {
        log.info({ sequence: this.#ca.sequence }, 'CA rotated');
        await this.publish();
      }
      await this.refreshBundle();
    } catch (err) {
      log.warn({ err: { code: (err as { code?: string }).code, message: (err as Error).message } }, 'cannot publish CA authorities; will retry');
    }
  }

  async apply(changes: readonly Change[]): Promise<void> {
    if (changes.some((c) => c.kind === 'authority')) await this.refreshBundle();
  }

  /** This replica's authorities, as published. */
  ownAuthorities(): OwnAuthority[] {
    const out: OwnAuthority[] = [];
    if (this.#ca.hasUpstream) {
      for (const der of this.#ca.bundle().x509Authorities()) {
        const cert = new X509Certificate(der);
        out.push({ kind: 'x509', authorityId: cert.serialNumber.toLowerCase(), publicData: der.toString('base64'), notAfter: epochSeconds(new Date(cert.validTo)) });
      }
    } else {
      for (const a of this.#ca.x509Authorities) {
        out.push({ kind: 'x509', authorityId: a.id, publicData: a.certificate.toString('base64'), notAfter: epochSeconds(a.notAfter) });
      }
    }
    for (const a of this.#ca.jwtAuthorities) {
      out.push({ kind: 'jwt', authorityId: a.id, publicData: JSON.stringify({ ...publicJwkOf(a.publicKey), kid: a.id }), notAfter: epochSeconds(a.notAfter) });
    }
    return out;
  }

  async publish(): Promise<void> {
    await this.#options.store.publishAuthorities(this.#options.replicaId, this.ownAuthorities(), this.#nowSeconds());
  }

  /** Rebuilds the bundle: our authorities plus every replica's live published ones. */
  async refreshBundle(): Promise<void> {
    const published = await this.#options.store.listAuthorities(this.#nowSeconds());
    const own = this.#ca.bundle();
    const x509 = new Map<string, Buffer>();
    const jwt = new Map<string, { keyId: string; publicKey: import('node:crypto').KeyObject }>();
    for (const der of own.x509Authorities()) x509.set(der.toString('base64'), der);
    for (const a of own.jwtAuthorities().values()) jwt.set(a.keyId, { keyId: a.keyId, publicKey: a.publicKey });
    for (const p of published) {
      if (p.kind === 'x509') {
        if (!x509.has(p.publicData)) {
          const der = Buffer.from(p.publicData, 'base64');
          try {
            new X509Certificate(der);
            x509.set(p.publicData, der);
          } catch {
            this.#options.log.warn({ replica: p.replicaId, authority: p.authorityId }, 'ignoring an unreadable published X.509 authority');
          }
        }
      } else if (!jwt.has(p.authorityId)) {
        let key;
        try {
          const parsed = JSON.parse(p.publicData) as Record<string, unknown>;
          key = importPublicJwk(parsed);
        } catch {
          key = 'not JSON';
        }
        if (typeof key === 'string') this.#options.log.warn({ replica: p.replicaId, authority: p.authorityId }, 'ignoring an unreadable published JWT authority');
        else jwt.set(p.authorityId, { keyId: p.authorityId, publicKey: key });
      }
    }
    const contentKey = [...[...x509.keys()].sort(), '|', ...[...jwt.keys()].sort()].join(',');
    if (contentKey === this.#bundleKey) return;
    this.#bundleKey = contentKey;
    this.#sequence = Math.max(this.#sequence + 1, this.#nowSeconds());
    this.#bundle = new Bundle(this.#options.trustDomain, {
      x509Authorities: [...x509.values()],
      jwtAuthorities: [...jwt.values()],
      sequence: this.#sequence,
      refreshHint: REFRESH_HINT_SECONDS,
    });
    for (const l of this.#listeners) l();
  }

  #nowSeconds(): number {
    return epochSeconds(this.#options.clock());
  }
}
