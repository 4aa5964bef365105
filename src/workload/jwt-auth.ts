/**
 * JWT-SVID authentication for HTTP.
 *
 * Client: `JwtBearer` turns a JwtSource into `Authorization: Bearer …` values,
 * one token per audience, cached until half its lifetime (then refetched).
 *
 * Server: `authenticateJwtSvid(req, options, bundles)` validates the bearer
 * token against the bundles (audience required), with optional replay
 * protection (a bounded jti + exp memory), optional certificate-bound tokens
 * (`cnf: { "x5t#S256" }`, RFC 8705) and an optional authorizer on the
 * token's SPIFFE ID. Two Authorization headers are refused (read through
 * `headersDistinct`); a present but invalid token is a failure, never
 * "absent" (Envoy CVE-2021-21378).
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';
import type { TLSSocket } from 'node:tls';
import type { Authorizer } from '../spiffe/authorizers.js';
import { JwtSvid, type ExpectedAudience } from '../spiffe/jwt/jwt-svid.js';
import type { JwtBundleSource } from '../spiffe/sources.js';
import type { SpiffeId } from '../spiffe/spiffe-id.js';
import { HttpAuthError } from './errors.js';

declare module 'node:http' {
  interface IncomingMessage {
    /** The validated JWT-SVID of the request (set by `requireJwtSvid`). */
    jwtSvid?: JwtSvid;
  }
}

/** Anything that hands out our JWT-SVIDs: a `JwtSource` (Workload API) or a test double. */
export interface JwtSvidFetcher {
  fetchJwtSvid(params: { audience: string | readonly string[]; subject?: SpiffeId | string }): Promise<JwtSvid>;
}

interface CachedToken {
  svid: JwtSvid;
  refreshAtMs: number;
}

export class JwtBearer {
  readonly #source: JwtSvidFetcher;
  readonly #subject: SpiffeId | string | undefined;
  readonly #cache = new Map<string, CachedToken>();
  readonly #pending = new Map<string, Promise<JwtSvid>>();

  constructor(source: JwtSvidFetcher, options: { subject?: SpiffeId | string } = {}) {
    if (typeof source?.fetchJwtSvid !== 'function') throw new TypeError('JwtBearer needs a source with fetchJwtSvid({ audience })');
    this.#source = source;
    this.#subject = options.subject;
  }

  /** The `Authorization` header value for `audience`. */
  async header(audience: string | readonly string[]): Promise<string> {
    return `Bearer ${(await this.svid(audience)).marshal()}`;
  }

  /** The JWT-SVID for `audience`, from the cache while it is younger than half its lifetime. */
  async svid(audience: string | readonly string[]): Promise<JwtSvid> {
    const list = typeof audience === 'string' ? [audience] : [...audience];
    if (list.length === 0 || list.some((a) => typeof a !== 'string' || a.length === 0)) throw new TypeError('audience must be a non-empty string or list of them');
    const key = JSON.stringify(list);
    const cached = this.#cache.get(key);
    if (cached && Date.now() < cached.refreshAtMs) return cached.svid;
    let pending = this.#pending.get(key);
    if (!pending) {
      const fetchedAt = Date.now();
      pending = this.#source
        .fetchJwtSvid({ audience: list, ...(this.#subject !== undefined ? { subject: this.#subject } : {}) })
        .then((svid) => {
          const iat = typeof svid.claims.iat === 'number' ? svid.claims.iat * 1000 : fetchedAt;
          const exp = svid.expiresAt.getTime();
          this.#cache.set(key, { svid, refreshAtMs: iat + (exp - iat) / 2 });
          return svid;
        })
        .finally(() => this.#pending.delete(key));
      this.#pending.set(key, pending);
    }
    return pending;
  }
}

/** Remembers tokens seen until they expire, bounded: when full of live tokens it refuses new ones (fail closed). */
export class JtiReplayCache {
  readonly maxEntries: number;
  readonly #seen = new Map<string, number>();

  constructor(options: { maxEntries?: number } = {}) {
    const max = options.maxEntries ?? 100_000;
    if (!Number.isSafeInteger(max) || max < 1) throw new RangeError('maxEntries must be a positive integer');
    this.maxEntries = max;
  }

  get size(): number {
    return this.#seen.size;
  }

  /** Records `key` until `expiresAtMs`; throws when it was seen before (and has not expired) or when the memory is full. */
  remember(key: string, expiresAtMs: number, nowMs = Date.now()): void {
    const known = this.#seen.get(key);
    if (known !== undefined && known > nowMs) throw new HttpAuthError('ERR_WORKLOAD_JWT_REPLAYED', 401, 'JWT-SVID was already used (replay)');
    if (this.#seen.size >= this.maxEntries) {
      for (const [k, exp] of this.#seen) if (exp <= nowMs) this.#seen.delete(k);
      if (this.#seen.size >= this.maxEntries) {
        throw new HttpAuthError('ERR_WORKLOAD_JWT_REPLAY_CACHE_FULL', 503, 'replay cache is full of unexpired tokens; refusing new tokens until some expire');
      }
    }
    this.#seen.set(key, expiresAtMs);
  }
}

export interface JwtSvidAuthOptions {
  /** The audience(s) this service accepts. Required: there is no default. */
  readonly audience: ExpectedAudience;
  /** The JWT bundles to validate against (a BundleSource, JwtSource, Bundle or BundleSet). */
  readonly bundles?: JwtBundleSource;
  /**
   * Replay protection: `true` for a default cache (100 000 tokens), or your own
   * `JtiReplayCache`. The key is the token's trust domain and `jti`; tokens
   * without `jti` are keyed by their SHA-256 (the same token twice is a replay).
   */
  readonly replay?: boolean | JtiReplayCache;
  /**
   * Require certificate-bound tokens: `cnf["x5t#S256"]` must be present and
   * equal to the SHA-256 thumbprint of the request's mTLS client certificate.
   * A token that carries `cnf` is checked whether or not this is set.
   */
  readonly requireCertificateBinding?: boolean;
  /** Which token subjects are allowed (403 otherwise). Default: any validated subject. */
  readonly authorize?: Authorizer;
  /** Let requests WITHOUT any Authorization header through (a present but invalid token still fails). Default false. */
  readonly allowMissing?: boolean;
  /** Clock skew in seconds (default 30, at most 300). */
  readonly leeway?: number;
  /** Refuse tokens without `kid`, as go-spiffe does (SECURITY-CASES 25). Default false (JWT-SVID.md §2.2 makes it optional). */
  readonly requireKeyId?: boolean;
}

type AnyRequest = IncomingMessage | Http2ServerRequest;

/** Every Authorization header value of the request, however many were sent. */
export function authorizationHeaders(req: AnyRequest): string[] {
  const distinct = (req as IncomingMessage).headersDistinct?.authorization;
  if (Array.isArray(distinct)) return distinct;
  const values: string[] = [];
  const raw = req.rawHeaders ?? [];
  for (let i = 0; i + 1 < raw.length; i += 2) if (raw[i]!.toLowerCase() === 'authorization') values.push(raw[i + 1]!);
  return values;
}

/** The SHA-256 thumbprint (base64url) of a DER certificate, as `cnf["x5t#S256"]` carries it. */
export function certificateThumbprint(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('base64url');
}

const BEARER = /^Bearer +([A-Za-z0-9_\-.=]+) *$/i;

/**
 * Authenticates the request's JWT-SVID. Returns the validated token, or
 * `undefined` only when no Authorization header was sent and `allowMissing`
 * is set. Throws `HttpAuthError` (401, 403 or 503) otherwise.
 */
export function authenticateJwtSvid(req: AnyRequest, options: JwtSvidAuthOptions, bundles: JwtBundleSource): JwtSvid | undefined {
  const values = authorizationHeaders(req);
  if (values.length === 0) {
    if (options.allowMissing === true) return undefined;
    throw new HttpAuthError('ERR_WORKLOAD_JWT_MISSING', 401, 'no Authorization header; a JWT-SVID bearer token is required');
  }
  if (values.length > 1) throw new HttpAuthError('ERR_WORKLOAD_JWT_MULTIPLE_HEADERS', 401, 'more than one Authorization header');
  const match = BEARER.exec(values[0]!);
  if (!match) throw new HttpAuthError('ERR_WORKLOAD_JWT_BAD_SCHEME', 401, 'Authorization must be "Bearer <JWT-SVID>"');
  const token = match[1]!;
  let svid: JwtSvid;
  try {
    svid = JwtSvid.parseAndValidate(token, bundles, options.audience, { leeway: options.leeway, requireKeyId: options.requireKeyId });
  } catch (err) {
    if (err instanceof TypeError || err instanceof RangeError) throw err;
    throw new HttpAuthError('ERR_WORKLOAD_JWT_INVALID', 401, `JWT-SVID is not valid: ${(err as Error).message}`, { cause: err });
  }
  checkBinding(req, svid, options.requireCertificateBinding === true);
  if (options.replay) {
    const cache = options.replay === true ? defaultReplayCache(options) : options.replay;
    const jti = svid.claims.jti;
    const key = typeof jti === 'string' && jti.length > 0 ? `jti\u0000${svid.id.trustDomain.name}\u0000${jti}` : `sha\u0000${createHash('sha256').update(token).digest('base64url')}`;
    cache.remember(key, svid.expiresAt.getTime() + (options.leeway ?? 30) * 1000);
  }
  if (options.authorize) {
    let allowed = false;
    try {
      allowed = options.authorize(svid.id) === true;
    } catch {
      allowed = false;
    }
    if (!allowed) throw new HttpAuthError('ERR_WORKLOAD_JWT_UNAUTHORIZED', 403, `JWT-SVID subject ${svid.id} is not authorized`);
  }
  return svid;
}

const defaultCaches = new WeakMap<object, JtiReplayCache>();
function defaultReplayCache(options: JwtSvidAuthOptions): JtiReplayCache {
  let cache = defaultCaches.get(options);
  if (!cache) {
    cache = new JtiReplayCache();
    defaultCaches.set(options, cache);
  }
  return cache;
}

function checkBinding(req: AnyRequest, svid: JwtSvid, required: boolean): void {
  const cnf = svid.claims.cnf;
  const bound = typeof cnf === 'object' && cnf !== null ? (cnf as Record<string, unknown>)['x5t#S256'] : undefined;
  if (cnf === undefined && !required) return;
  if (typeof bound !== 'string' || bound.length === 0) {
    throw new HttpAuthError('ERR_WORKLOAD_JWT_CNF_MISMATCH', 401, 'JWT-SVID is not bound to a certificate (cnf["x5t#S256"] missing)');
  }
  const socket = (('stream' in req && req.stream ? req.stream.session?.socket : req.socket) ?? undefined) as TLSSocket | undefined;
  const peer = typeof socket?.getPeerCertificate === 'function' ? socket.getPeerCertificate() : undefined;
  if (!peer?.raw) throw new HttpAuthError('ERR_WORKLOAD_JWT_CNF_MISMATCH', 401, 'JWT-SVID is certificate-bound but the request has no mTLS client certificate');
  if (certificateThumbprint(peer.raw) !== bound) {
    throw new HttpAuthError('ERR_WORKLOAD_JWT_CNF_MISMATCH', 401, 'JWT-SVID is bound to another certificate than the one of this connection');
  }
}
