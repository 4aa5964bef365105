/**
 * Express middleware and Fastify hooks/plugin.
 *
 * `requireSpiffeId(authorizer)` and `requireJwtSvid({ audience })` each
 * return ONE function that works as Express middleware `(req, res, next)`
 * and as a Fastify `onRequest`/`preHandler` hook `(request, reply, done)`.
 * `meshwardFastify` is a Fastify plugin (not encapsulated) that decorates
 * `request.spiffeId` / `request.jwtSvid` and, given options, adds the hooks
 * to every route.
 *
 * `requireSpiffeId` reads the peer verified by `createMtlsServer` (or
 * `protectTlsServer`): without one the answer is 401, with an unauthorized
 * one 403. `requireJwtSvid` answers 401 for a missing, duplicated, malformed
 * or invalid token, 403 for an unauthorized subject, 503 when the replay
 * memory is full. Answers are small JSON bodies `{ error, code }` with
 * `WWW-Authenticate: Bearer` on 401 for JWT.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Authorizer } from '../spiffe/authorizers.js';
import type { JwtBundleSource } from '../spiffe/sources.js';
import { defaultBundleSource } from './bundle-source.js';
import { HttpAuthError } from './errors.js';
import { authenticateJwtSvid, type JwtSvidAuthOptions } from './jwt-auth.js';
import type { SpiffeId } from '../spiffe/spiffe-id.js';
import type { JwtSvid } from '../spiffe/jwt/jwt-svid.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified mTLS peer (set by `meshwardFastify` / `requireSpiffeId`). */
    spiffeId?: SpiffeId;
    /** The validated JWT-SVID (set by `requireJwtSvid`). */
    jwtSvid?: JwtSvid;
  }
}

interface FastifyLikeRequest {
  raw: IncomingMessage;
  [key: string]: unknown;
}
interface FastifyLikeReply {
  code(status: number): FastifyLikeReply;
  header(name: string, value: string): FastifyLikeReply;
  send(body: unknown): unknown;
}

/** Express middleware and Fastify hook in one. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type MeshwardMiddleware = (req: any, res: any, next: any) => void;

function isFastify(req: unknown, res: unknown): req is FastifyLikeRequest {
  return typeof req === 'object' && req !== null && 'raw' in req && typeof (res as FastifyLikeReply)?.code === 'function';
}

function deny(req: unknown, res: unknown, err: HttpAuthError, jwt: boolean): void {
  const body = { error: err.status === 401 ? 'unauthenticated' : err.status === 403 ? 'forbidden' : 'unavailable', code: err.code };
  if (isFastify(req, res)) {
    const reply = res as FastifyLikeReply;
    if (jwt && err.status === 401) reply.header('www-authenticate', 'Bearer error="invalid_token"');
    reply.code(err.status).send(body);
    return;
  }
  const r = res as ServerResponse;
  r.statusCode = err.status;
  if (jwt && err.status === 401) r.setHeader('www-authenticate', 'Bearer error="invalid_token"');
  r.setHeader('content-type', 'application/json');
  r.end(JSON.stringify(body));
}

function middleware(jwt: boolean, run: (raw: IncomingMessage) => Promise<Record<string, unknown>> | Record<string, unknown>): MeshwardMiddleware {
  return (req, res, next) => {
    const fastify = isFastify(req, res);
    const raw: IncomingMessage = fastify ? req.raw : req;
    let result: Promise<Record<string, unknown>> | Record<string, unknown>;
    const onError = (err: unknown) => {
      if (err instanceof HttpAuthError) deny(req, res, err, jwt);
      else (next as (e?: unknown) => void)(err);
    };
    const onResult = (values: Record<string, unknown>) => {
      for (const [k, v] of Object.entries(values)) {
        if ((raw as unknown as Record<string, unknown>)[k] !== v) Object.defineProperty(raw, k, { value: v, enumerable: true, configurable: false, writable: false });
        if (fastify) req[k] = v;
      }
      next();
    };
    try {
      result = run(raw);
    } catch (err) {
      onError(err);
      return;
    }
    if (result instanceof Promise) result.then(onResult, onError);
    else onResult(result);
  };
}

/** Only peers verified by mTLS and allowed by `authorizer` get through. */
export function requireSpiffeId(authorizer: Authorizer): MeshwardMiddleware {
  if (typeof authorizer !== 'function') throw new TypeError('requireSpiffeId needs an authorizer: there is no default');
  return middleware(false, (raw) => {
    const id = raw.spiffeId;
    if (id === undefined) throw new HttpAuthError('ERR_WORKLOAD_PEER_UNAUTHORIZED', 401, 'no verified mTLS peer (serve with createMtlsServer)');
    let allowed = false;
    try {
      allowed = authorizer(id) === true;
    } catch {
      allowed = false;
    }
    if (!allowed) throw new HttpAuthError('ERR_WORKLOAD_PEER_UNAUTHORIZED', 403, `peer ${id} is not authorized`);
    return { spiffeId: id };
  });
}

/**
 * A valid JWT-SVID for `audience` is required (see `JwtSvidAuthOptions`).
 * Without `bundles`, the JWT bundles come from the Workload API at
 * `SPIFFE_ENDPOINT_SOCKET` (one shared BundleSource, made on first use).
 */
export function requireJwtSvid(options: JwtSvidAuthOptions): MeshwardMiddleware {
  if (typeof options !== 'object' || options === null) throw new TypeError('requireJwtSvid needs options { audience }');
  if (options.audience === undefined || (Array.isArray(options.audience) && options.audience.length === 0) || options.audience === '') {
    throw new TypeError('requireJwtSvid needs an audience: there is no default');
  }
  const frozen: JwtSvidAuthOptions = { ...options };
  return middleware(true, (raw) => {
    if (frozen.bundles) return { jwtSvid: authenticateJwtSvid(raw, frozen, frozen.bundles) };
    return defaultBundleSource().then(
      (bundles: JwtBundleSource) => ({ jwtSvid: authenticateJwtSvid(raw, frozen, bundles) }),
      (err: unknown) => {
        throw new HttpAuthError('ERR_WORKLOAD_NO_BUNDLE', 503, `no JWT bundles from the Workload API: ${(err as Error).message}`);
      },
    );
  });
}

export interface MeshwardFastifyOptions {
  /** Require an authorized mTLS peer on every route. */
  readonly authorize?: Authorizer;
  /** Require a JWT-SVID on every route. */
  readonly jwt?: JwtSvidAuthOptions;
}

interface FastifyLikeInstance {
  decorateRequest(name: string, value: unknown): unknown;
  addHook(name: string, hook: unknown): unknown;
  hasRequestDecorator(name: string): boolean;
}

/** A Fastify plugin: `app.register(meshwardFastify, { authorize, jwt })`. */
export function meshwardFastify(app: FastifyLikeInstance, options: MeshwardFastifyOptions, done: (err?: Error) => void): void {
  if (!app.hasRequestDecorator('spiffeId')) app.decorateRequest('spiffeId', undefined);
  if (!app.hasRequestDecorator('jwtSvid')) app.decorateRequest('jwtSvid', undefined);
  app.addHook('onRequest', (request: FastifyLikeRequest, _reply: unknown, next: () => void) => {
    request.spiffeId = request.raw.spiffeId;
    next();
  });
  if (options?.authorize) app.addHook('onRequest', requireSpiffeId(options.authorize));
  if (options?.jwt) app.addHook('onRequest', requireJwtSvid(options.jwt));
  done();
}
// not encapsulated, as fastify-plugin would mark it
(meshwardFastify as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;
(meshwardFastify as unknown as Record<symbol, string>)[Symbol.for('fastify.display-name')] = 'meshward';
