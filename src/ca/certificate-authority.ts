/**
 * The certificate authority of one trust domain: X.509 and JWT authorities
 * rotated as SPIRE does (see rotation.ts), minting of X.509-SVIDs and
 * JWT-SVIDs with the ACTIVE ones, and the trust bundle verifiers need.
 *
 * The CA changes state only in `advance(now)`; minting never rotates. A
 * long-running owner calls `advance()` periodically (each call is cheap when
 * nothing is due); `loadCaDirectory` calls it on every load.
 */
import { createPublicKey, KeyObject } from 'node:crypto';
import { inspect } from 'node:util';
import { CaError } from './ca-error.js';
import { publicKeyFromCsr } from './csr.js';
import { BACKDATE_MS, ceilSeconds, floorSeconds } from './internal.js';
import { JwtAuthority } from './jwt-authority.js';
import { classifyKey, parseKeyType, type KeyType } from './key-type.js';
import { advanceAuthorities, type AuthorityStatus } from './rotation.js';
import { publicKeyInfo } from './spki.js';
import type { UpstreamAuthority } from './upstream.js';
import { X509Authority } from './x509-authority.js';
import { Bundle } from '../spiffe/bundle.js';
import { SpiffeId } from '../spiffe/spiffe-id.js';
import { TrustDomain } from '../spiffe/trust-domain.js';

export const DEFAULT_CA_TTL_SECONDS = 24 * 3600;
export const DEFAULT_X509_SVID_TTL_SECONDS = 3600;
export const DEFAULT_JWT_SVID_TTL_SECONDS = 300;
/** A CA lives at most 10 years; an SVID at most 1 year (it is capped at the CA's expiry anyway). */
export const MAX_CA_TTL_SECONDS = 10 * 365 * 86400;
export const MAX_SVID_TTL_SECONDS = 365 * 86400;
/** A CA must live long enough for rotation to make sense. */
export const MIN_CA_TTL_SECONDS = 60;
export const BUNDLE_REFRESH_HINT_SECONDS = 300;
const MAX_DNS_NAMES = 100;
const MAX_AUDIENCES = 32;
const DNS_NAME = /^(\*\.)?(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;

export interface CertificateAuthorityOptions {
  trustDomain: TrustDomain | string;
  /** Key type of the X.509 CA; default `ec-p256`. */
  keyType?: KeyType;
  /** Key type of the JWT keys; default: the CA's key type (as SPIRE's `jwt_key_type`). */
  jwtKeyType?: KeyType;
  /** Lifetime of each CA certificate and JWT key; default 24 h (SPIRE's `ca_ttl`). */
  ttlSeconds?: number;
  /** Make our CA an intermediate under this upstream CA. */
  upstream?: UpstreamAuthority;
  /** The clock used when a call gives no `now`. */
  clock?: () => Date;
  /** Creation time; default `clock()`. */
  now?: Date;
}

export interface MintX509SvidRequest {
  spiffeId: SpiffeId | string;
  /** The workload's public key… */
  publicKey?: KeyObject;
  /** …or a PKCS#10 request (PEM or DER) whose signature is checked. */
  csr?: string | Uint8Array;
  /** Default 1 h; capped at the CA's expiry. */
  ttlSeconds?: number;
  dnsNames?: readonly string[];
  now?: Date;
}

export interface X509SvidMint {
  /** DER of the leaf. */
  certificate: Buffer;
  /** Leaf first, then our intermediates; never the trust anchor. */
  chain: Buffer[];
  /** Hex. */
  serialNumber: string;
  notBefore: Date;
  expiresAt: Date;
}

export interface MintJwtSvidRequest {
  spiffeId: SpiffeId | string;
  audience: string | readonly string[];
  /** Default 5 min; capped at the JWT key's expiry. */
  ttlSeconds?: number;
  now?: Date;
}

/** Everything the CA's state is made of; used by storage (ca-directory.ts). */
export interface CaState {
  trustDomain: TrustDomain;
  keyType: KeyType;
  jwtKeyType: KeyType;
  ttlSeconds: number;
  sequence: number;
  x509: X509Authority[];
  jwt: JwtAuthority[];
  upstream: UpstreamAuthority | undefined;
}

/** Called after `advance` changed the state (storage persists it). */
export type StateListener = (state: Readonly<CaState>) => void;

export class CertificateAuthority {
  readonly trustDomain: TrustDomain;
  readonly keyType: KeyType;
  readonly jwtKeyType: KeyType;
  readonly ttlSeconds: number;
  readonly #upstream: UpstreamAuthority | undefined;
  readonly #clock: () => Date;
  readonly #trustDomainId: string;
  #x509: X509Authority[];
  #jwt: JwtAuthority[];
  #sequence: number;
  #bundle: Bundle | undefined;
  #listener: StateListener | undefined;

  private constructor(state: CaState, clock: () => Date) {
    this.trustDomain = state.trustDomain;
    this.keyType = state.keyType;
    this.jwtKeyType = state.jwtKeyType;
    this.ttlSeconds = state.ttlSeconds;
    this.#upstream = state.upstream;
    this.#x509 = state.x509;
    this.#jwt = state.jwt;
    this.#sequence = state.sequence;
    this.#clock = clock;
    this.#trustDomainId = this.trustDomain.idString();
  }

  /** A new CA with an ACTIVE X.509 authority and an ACTIVE JWT key. */
  static create(options: CertificateAuthorityOptions): CertificateAuthority {
    const opts = checkOptions(options);
    const ca = new CertificateAuthority({ ...opts, sequence: 0, x509: [], jwt: [] }, opts.clock);
    ca.#advance(opts.now);
    return ca;
  }

  /** Rebuilds a CA from stored state, without advancing it. Internal to storage. */
  static fromState(state: CaState, clock: () => Date = () => new Date()): CertificateAuthority {
    return new CertificateAuthority(state, clock);
  }

  /** Whether this CA is an intermediate under an upstream CA. */
  get hasUpstream(): boolean {
    return this.#upstream !== undefined;
  }

  /** The bundle's `spiffe_sequence`: bumped on every change of the bundle's keys. */
  get sequence(): number {
    return this.#sequence;
  }

  /** X.509 authorities, oldest first (public view: certificates, statuses, dates). */
  get x509Authorities(): readonly X509Authority[] {
    return this.#x509;
  }

  get jwtAuthorities(): readonly JwtAuthority[] {
    return this.#jwt;
  }

  /** The ACTIVE X.509 authority's CA certificate chain (ours first, no root). */
  get activeX509Authority(): X509Authority | undefined {
    return this.#x509.find((a) => a.status === 'ACTIVE');
  }

  get activeJwtAuthority(): JwtAuthority | undefined {
    return this.#jwt.find((a) => a.status === 'ACTIVE');
  }

  /** Internal: storage subscribes here to persist each change. */
  setStateListener(listener: StateListener | undefined): void {
    this.#listener = listener;
  }

  /** Internal: the state as storage writes it. */
  state(): Readonly<CaState> {
    return {
      trustDomain: this.trustDomain,
      keyType: this.keyType,
      jwtKeyType: this.jwtKeyType,
      ttlSeconds: this.ttlSeconds,
      sequence: this.#sequence,
      x509: [...this.#x509],
      jwt: [...this.#jwt],
      upstream: this.#upstream,
    };
  }

  /**
   * Brings rotation up to `now` (default: the clock): prepares, activates and
   * drops authorities as due. Returns true when anything changed. Under an
   * upstream CA that has expired, throws `ERR_CA_UPSTREAM_EXPIRED` when a new
   * authority would be needed.
   */
  advance(now?: Date): boolean {
    const changed = this.#advance(checkNow(now) ?? this.#clock());
    if (changed) this.#listener?.(this.state());
    return changed;
  }

  #advance(now: Date): boolean {
    const x509 = advanceAuthorities(this.#x509, now, (status) => this.#newX509Authority(now, status));
    const jwt = advanceAuthorities(this.#jwt, now, (status) => JwtAuthority.create({ keyType: this.jwtKeyType, ttlSeconds: this.ttlSeconds, now, status }));
    if (!x509.changed && !jwt.changed) return false;
    const before = this.#bundleKeyIds();
    this.#x509 = x509.authorities;
    this.#jwt = jwt.authorities;
    if (before !== this.#bundleKeyIds() || this.#sequence === 0) {
      this.#sequence++;
      this.#bundle = undefined;
    }
    return true;
  }

  #newX509Authority(now: Date, status: AuthorityStatus): X509Authority {
    if (this.#upstream !== undefined && this.#upstream.notAfter.getTime() <= now.getTime() + 1000) {
      throw new CaError('ERR_CA_UPSTREAM_EXPIRED', `the upstream CA expired at ${this.#upstream.notAfter.toISOString()}; a new CA cannot be signed`);
    }
    return X509Authority.create({ trustDomainId: this.#trustDomainId, keyType: this.keyType, ttlSeconds: this.ttlSeconds, now, status, upstream: this.#upstream });
  }

  #bundleKeyIds(): string {
    const x509 = this.#upstream === undefined ? this.#x509.map((a) => a.id) : [];
    return [...x509, '|', ...this.#jwt.map((a) => a.id)].join(',');
  }

  /**
   * The trust bundle: every X.509 authority a verifier may still need (OLD,
   * ACTIVE and PREPARED CA certificates; under an upstream CA, the upstream
   * root instead) and every JWT key, with `spiffe_sequence`.
   */
  bundle(): Bundle {
    this.#bundle ??= new Bundle(this.trustDomain, {
      x509Authorities: this.#upstream === undefined ? this.#x509.map((a) => a.certificate) : this.#upstream.roots,
      jwtAuthorities: this.#jwt.map((a) => ({ keyId: a.id, publicKey: a.publicKey })),
      sequence: this.#sequence,
      refreshHint: BUNDLE_REFRESH_HINT_SECONDS,
    });
    return this.#bundle;
  }

  /** Mints an X.509-SVID with the ACTIVE X.509 authority. Throws `CaError`. */
  mintX509Svid(request: MintX509SvidRequest): X509SvidMint {
    if (typeof request !== 'object' || request === null) throw new CaError('ERR_CA_BAD_OPTION', 'mintX509Svid needs a request object');
    const id = this.#workloadId(request.spiffeId);
    const ttl = checkTtl(request.ttlSeconds, DEFAULT_X509_SVID_TTL_SECONDS, MAX_SVID_TTL_SECONDS, 'X.509-SVID TTL');
    const dnsNames = checkDnsNames(request.dnsNames);
    const now = checkNow(request.now) ?? this.#clock();
    const publicKey = workloadKey(request);
    const { family } = classifyKey(publicKey, 'the workload key');
    const authority = this.#x509.find((a) => a.status === 'ACTIVE');
    const t = now.getTime();
    if (authority === undefined || authority.notAfter.getTime() <= t + 1000) {
      throw new CaError('ERR_CA_EXPIRED', 'no X.509 authority is active now; run advance() (or load the CA again) to rotate');
    }
    const notBefore = ceilSeconds(t - BACKDATE_MS);
    const wanted = floorSeconds(t + ttl * 1000);
    const expiresAt = wanted < authority.notAfter ? wanted : authority.notAfter;
    const { certificate, serial } = authority.mintLeaf(id, publicKeyInfo(publicKey), family, dnsNames, notBefore, expiresAt);
    return { certificate, chain: [certificate, ...authority.chain], serialNumber: serial.toString('hex'), notBefore, expiresAt };
  }

  /** Mints a JWT-SVID with the ACTIVE JWT key. Throws `CaError`. */
  mintJwtSvid(request: MintJwtSvidRequest): string {
    if (typeof request !== 'object' || request === null) throw new CaError('ERR_CA_BAD_OPTION', 'mintJwtSvid needs a request object');
    const sub = this.#workloadId(request.spiffeId);
    const aud = checkAudience(request.audience);
    const ttl = checkTtl(request.ttlSeconds, DEFAULT_JWT_SVID_TTL_SECONDS, MAX_SVID_TTL_SECONDS, 'JWT-SVID TTL');
    const now = checkNow(request.now) ?? this.#clock();
    const key = this.#jwt.find((a) => a.status === 'ACTIVE');
    const iat = Math.floor(now.getTime() / 1000);
    if (key === undefined || key.notAfter.getTime() / 1000 <= iat + 1) {
      throw new CaError('ERR_CA_EXPIRED', 'no JWT key is active now; run advance() (or load the CA again) to rotate');
    }
    const exp = Math.min(iat + ttl, Math.floor(key.notAfter.getTime() / 1000));
    return key.sign({ sub, aud, exp, iat });
  }

  /** The ID as text, once checked: a valid SPIFFE ID with a path, in our trust domain. */
  #workloadId(input: unknown): string {
    let id: SpiffeId;
    if (input instanceof SpiffeId) id = input;
    else if (typeof input === 'string') {
      try {
        id = SpiffeId.parse(input);
      } catch (err) {
        throw new CaError('ERR_CA_BAD_SPIFFE_ID', `invalid SPIFFE ID: ${(err as Error).message}`);
      }
    } else throw new CaError('ERR_CA_BAD_SPIFFE_ID', 'the SPIFFE ID must be a string or a SpiffeId');
    if (!id.memberOf(this.trustDomain)) {
      throw new CaError('ERR_CA_FOREIGN_TRUST_DOMAIN', `${id.toString()} is not in trust domain ${this.trustDomain.name}; this CA signs only its own trust domain`);
    }
    if (id.isTrustDomainId()) throw new CaError('ERR_CA_ID_WITHOUT_PATH', `${id.toString()} has no path; a workload's SPIFFE ID needs one (e.g. spiffe://${this.trustDomain.name}/service)`);
    return id.toString();
  }

  toJSON(): Record<string, unknown> {
    return {
      trustDomain: this.trustDomain.name,
      keyType: this.keyType,
      jwtKeyType: this.jwtKeyType,
      ttlSeconds: this.ttlSeconds,
      upstream: this.#upstream !== undefined,
      sequence: this.#sequence,
      x509Authorities: this.#x509.map((a) => a.toJSON()),
      jwtAuthorities: this.#jwt.map((a) => a.toJSON()),
    };
  }

  [inspect.custom](): string {
    return `CertificateAuthority ${inspect(this.toJSON(), { depth: 4 })}`;
  }
}

function checkOptions(options: CertificateAuthorityOptions): Omit<CaState, 'sequence' | 'x509' | 'jwt'> & { clock: () => Date; now: Date } {
  if (typeof options !== 'object' || options === null) throw new CaError('ERR_CA_BAD_OPTION', 'CA options must be an object');
  let trustDomain: TrustDomain;
  try {
    trustDomain = options.trustDomain instanceof TrustDomain ? options.trustDomain : TrustDomain.parse(options.trustDomain);
  } catch (err) {
    throw new CaError('ERR_CA_BAD_OPTION', `invalid trust domain: ${(err as Error).message}`);
  }
  const keyType = parseKeyType(options.keyType);
  const jwtKeyType = options.jwtKeyType === undefined ? keyType : parseKeyType(options.jwtKeyType);
  const ttlSeconds = checkTtl(options.ttlSeconds, DEFAULT_CA_TTL_SECONDS, MAX_CA_TTL_SECONDS, 'CA TTL');
  if (ttlSeconds < MIN_CA_TTL_SECONDS) throw new CaError('ERR_CA_BAD_TTL', `CA TTL of ${ttlSeconds} s is too short; at least ${MIN_CA_TTL_SECONDS} s`);
  if (options.clock !== undefined && typeof options.clock !== 'function') throw new CaError('ERR_CA_BAD_OPTION', 'clock must be a function returning a Date');
  const clock = options.clock ?? (() => new Date());
  return { trustDomain, keyType, jwtKeyType, ttlSeconds, upstream: options.upstream, clock, now: checkNow(options.now) ?? clock() };
}

export function checkTtl(value: unknown, fallback: number, max: number, what: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new CaError('ERR_CA_BAD_TTL', `${what} must be a positive whole number of seconds, got ${typeof value === 'number' ? value : typeof value}`);
  }
  if (value > max) throw new CaError('ERR_CA_BAD_TTL', `${what} of ${value} s is too long; at most ${max} s`);
  return value;
}

function checkNow(now: unknown): Date | undefined {
  if (now === undefined) return undefined;
  if (!(now instanceof Date) || Number.isNaN(now.getTime())) throw new CaError('ERR_CA_BAD_OPTION', '"now" must be a valid Date');
  return now;
}

function checkDnsNames(names: unknown): string[] {
  if (names === undefined) return [];
  if (!Array.isArray(names)) throw new CaError('ERR_CA_BAD_DNS_NAME', 'dnsNames must be an array of host names');
  if (names.length > MAX_DNS_NAMES) throw new CaError('ERR_CA_BAD_DNS_NAME', `at most ${MAX_DNS_NAMES} DNS names`);
  for (const name of names) {
    if (typeof name !== 'string' || name.length > 253 || !DNS_NAME.test(name)) {
      throw new CaError('ERR_CA_BAD_DNS_NAME', `${JSON.stringify(name)} is not a valid DNS name (letters, digits, hyphens, dots; an optional leading "*.")`);
    }
  }
  return names as string[];
}

function checkAudience(audience: unknown): string[] {
  const list = typeof audience === 'string' ? [audience] : audience;
  if (!Array.isArray(list) || list.length === 0) throw new CaError('ERR_CA_BAD_AUDIENCE', 'a JWT-SVID needs at least one audience');
  if (list.length > MAX_AUDIENCES) throw new CaError('ERR_CA_BAD_AUDIENCE', `at most ${MAX_AUDIENCES} audiences`);
  for (const aud of list) {
    if (typeof aud !== 'string' || aud.length === 0 || aud.length > 1024) throw new CaError('ERR_CA_BAD_AUDIENCE', 'each audience must be a non-empty string of at most 1024 characters');
  }
  return [...(list as string[])];
}

function workloadKey(request: MintX509SvidRequest): KeyObject {
  const hasKey = request.publicKey !== undefined;
  const hasCsr = request.csr !== undefined;
  if (hasKey === hasCsr) throw new CaError('ERR_CA_BAD_OPTION', 'give exactly one of publicKey and csr');
  if (hasCsr) {
    if (typeof request.csr !== 'string' && !(request.csr instanceof Uint8Array)) throw new CaError('ERR_CA_MALFORMED_CSR', 'the CSR must be PEM text or DER bytes');
    return publicKeyFromCsr(request.csr);
  }
  const key = request.publicKey;
  if (!(key instanceof KeyObject) || key.type === 'secret') throw new CaError('ERR_CA_BAD_OPTION', 'publicKey must be an asymmetric node:crypto KeyObject');
  return key.type === 'private' ? createPublicKey(key) : key;
}
