/**
 * The server's own X.509-SVID, `spiffe://TD/meshward/server`, minted from
 * this replica's CA with a fresh P-256 key and rotated at half its lifetime.
 * Listeners subscribe to rotations and swap their TLS credentials in place.
 */
import { generateKeyPairSync } from 'node:crypto';
import type { Logger } from 'pino';
import { encodePem } from '../spiffe/pem.js';
import { SpiffeId } from '../spiffe/spiffe-id.js';
import type { TrustDomain } from '../spiffe/trust-domain.js';
import type { ServerCa } from './server-context.js';

export interface ServerCredential {
  readonly spiffeId: string;
  /** Leaf first, then our intermediates. */
  readonly certPem: string;
  readonly keyPem: string;
  readonly expiresAt: Date;
  readonly serialNumber: string;
}

export function serverSpiffeId(trustDomain: TrustDomain): SpiffeId {
  return SpiffeId.fromSegments(trustDomain, 'meshward', 'server');
}

export class ServerIdentity {
  readonly spiffeId: SpiffeId;
  readonly #ca: ServerCa;
  readonly #ttlSeconds: number;
  readonly #log: Logger;
  readonly #listeners = new Set<(c: ServerCredential) => void>();
  #current: ServerCredential;
  #timer: NodeJS.Timeout | undefined;

  constructor(ca: ServerCa, trustDomain: TrustDomain, ttlSeconds: number, log: Logger) {
    this.spiffeId = serverSpiffeId(trustDomain);
    this.#ca = ca;
    this.#ttlSeconds = ttlSeconds;
    this.#log = log;
    this.#current = this.#mint();
  }

  get current(): ServerCredential {
    return this.#current;
  }

  onRotate(listener: (c: ServerCredential) => void): void {
    this.#listeners.add(listener);
  }

  start(): void {
    this.#schedule();
  }

  close(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Mints a new SVID now and hands it to the listeners. */
  rotate(): void {
    try {
      this.#current = this.#mint();
      this.#log.info({ serial: this.#current.serialNumber, expiresAt: this.#current.expiresAt.toISOString() }, 'server SVID rotated');
      for (const l of this.#listeners) l(this.#current);
    } catch (err) {
      this.#log.error({ err: { code: (err as { code?: string }).code, message: (err as Error).message } }, 'cannot rotate the server SVID; retrying in 30 s');
    }
  }

  #schedule(): void {
    const remaining = this.#current.expiresAt.getTime() - Date.now();
    const delay = Math.max(1_000, Math.min(remaining / 2, 2 ** 31 - 1));
    this.#timer = setTimeout(() => {
      this.rotate();
      this.#schedule();
    }, delay);
    this.#timer.unref();
  }

  #mint(): ServerCredential {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const mint = this.#ca.mintX509Svid({ spiffeId: this.spiffeId, publicKey, ttlSeconds: this.#ttlSeconds });
    return {
      spiffeId: this.spiffeId.toString(),
      certPem: mint.chain.map((der) => encodePem('CERTIFICATE', der)).join(''),
      keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
      expiresAt: mint.expiresAt,
      serialNumber: mint.serialNumber,
    };
  }
}
