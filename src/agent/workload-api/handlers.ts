/**
 * The Workload API methods (SPIFFE_Workload_API.md; behaviour and messages
 * mirror SPIRE's agent). Every call is attested by the peer credentials of
 * its connection, after the per-uid rate limit; the caller's identities are
 * the entries whose selectors are all among its selectors. Streams send a
 * complete snapshot first (from cache) and again after every change that
 * alters it; identical consecutive answers are not sent.
 */
import { JwtSvid } from '../../spiffe/jwt/index.js';
import { BundleSet } from '../../spiffe/bundle-set.js';
import type { Bundle } from '../../spiffe/bundle.js';
import { SpiffeId } from '../../spiffe/spiffe-id.js';
import type { KeyedTokenBuckets } from '../../guard/token-bucket.js';
import type { ConnectedPeer } from '../attestors/attest-caller.js';
import type { ProcReader } from '../attestors/proc.js';
import type { WorkloadAttestor } from '../attestors/workload-attestor.js';
import type { AgentEntry } from '../entry.js';
import type { JwtCache } from '../jwt-cache.js';
import type { AgentMetrics } from '../metrics.js';
import type { SvidCache } from '../svid-cache.js';
import type { CallContext, MethodTable } from './grpc-server.js';
import { GrpcCallError, GrpcStatus } from './grpc-status.js';
import { CallRunner, type Snapshot } from './call-runner.js';
import { encode, toStruct, workloadProto, SERVICE_NAME } from './proto.js';

export interface WorkloadApiDeps {
  readonly cache: SvidCache;
  readonly jwtCache: JwtCache;
  readonly fetchJwt: (entry: AgentEntry, audience: readonly string[]) => Promise<{ token: string; expiresAt: number }>;
  readonly attestors: readonly WorkloadAttestor[];
  readonly proc: ProcReader;
  readonly limiter: KeyedTokenBuckets;
  readonly metrics?: AgentMetrics;
  readonly log: { warn(o: object, m: string): void; debug(o: object, m: string): void };
  readonly now?: () => number;
}

const NO_IDENTITY = 'no identity issued';
const MAX_AUDIENCES = 32;

export function workloadApiMethods(deps: WorkloadApiDeps, options: { runner?: CallRunner } = {}): MethodTable<ConnectedPeer> {
  const proto = workloadProto();
  const now = deps.now ?? Date.now;
  const { cache } = deps;
  const encoded = new Map<string, { version: number; bytes: Uint8Array }>();

  const runner = options.runner ?? new CallRunner(deps);
  const attest = (call: CallContext<ConnectedPeer>): Promise<ReadonlySet<string>> => runner.attest(call);
  const x509Served = { onSent: (): void => deps.metrics?.countServed('x509') }; // made once, not per call
  const stream = (call: CallContext<ConnectedPeer>, send: (m: Uint8Array) => void, first: ReadonlySet<string>, snapshot: Snapshot, kind?: 'x509'): Promise<void> =>
    runner.stream(call, send, first, snapshot, kind === 'x509' ? x509Served : {});

  const federatedFor = (entries: readonly AgentEntry[]): Map<string, Bundle> => {
    const out = new Map<string, Bundle>();
    for (const e of entries) {
      for (const td of e.federatesWith) {
        const b = cache.federatedBundle(td);
        if (b !== undefined) out.set(td, b);
      }
    }
    return out;
  };

  const x509Svids = (selectors: ReadonlySet<string>): Uint8Array | 'wait' => {
    if (!cache.ready) return 'wait';
    // A connection keeps one selector set: its answer is kept with it until the cache changes (no match per call).
    const mine = byConnection.get(selectors);
    if (mine !== undefined && mine.version === cache.version) return mine.bytes;
    const bytes = encodeX509Svids(selectors);
    if (bytes !== 'wait') byConnection.set(selectors, { version: cache.version, bytes });
    return bytes;
  };
  const byConnection = new WeakMap<ReadonlySet<string>, { version: number; bytes: Uint8Array }>();

  const encodeX509Svids = (selectors: ReadonlySet<string>): Uint8Array | 'wait' => {
    const entries = cache.match(selectors);
    if (entries.length === 0) throw new GrpcCallError(GrpcStatus.PERMISSION_DENIED, NO_IDENTITY);
    const key = entries.map((e) => e.id).join(',');
    const known = encoded.get(key);
    if (known !== undefined && known.version === cache.version) return known.bytes;
    const t = now();
    const bundle = cache.bundle!;
    const bundleDer = Buffer.concat(bundle.x509Authorities());
    const hints = new Set<string>();
    const svids: Record<string, unknown>[] = [];
    for (const e of entries) {
      const s = cache.svid(e.id);
      if (s === undefined || s.expiresAt <= t) continue;
      if (e.hint !== '') {
        if (hints.has(e.hint)) continue; // hints stay unique within a response: the first wins
        hints.add(e.hint);
      }
      svids.push({ spiffe_id: e.spiffeId, x509_svid: Buffer.concat(s.chain), x509_svid_key: s.key, bundle: bundleDer, hint: e.hint });
    }
    if (svids.length === 0) return 'wait';
    const federated: Record<string, Buffer> = {};
    for (const [td, b] of federatedFor(entries)) federated[`spiffe://${td}`] = Buffer.concat(b.x509Authorities());
    const bytes = encode(proto.X509SVIDResponse, { svids, federated_bundles: federated });
    if (encoded.size > 10_000) encoded.clear();
    encoded.set(key, { version: cache.version, bytes });
    return bytes;
  };

  const bundlesFor = (selectors: ReadonlySet<string>, render: (b: Bundle) => Buffer): Map<string, Buffer> | 'wait' => {
    if (!cache.ready) return 'wait';
    const entries = cache.match(selectors);
    if (entries.length === 0) throw new GrpcCallError(GrpcStatus.PERMISSION_DENIED, NO_IDENTITY);
    const own = cache.bundle!;
    const out = new Map<string, Buffer>([[`spiffe://${own.trustDomain.name}`, render(own)]]);
    for (const [td, b] of federatedFor(entries)) out.set(`spiffe://${td}`, render(b));
    return out;
  };

  const x509Der = (b: Bundle): Buffer => Buffer.concat(b.x509Authorities());
  /** A plain JWKS as SPIRE serves it on the Workload API: no `use`. */
  const jwks = (b: Bundle): Buffer => Buffer.from(JSON.stringify({ keys: b.toJwks().keys.map(({ use: _use, ...k }) => k) }));

  const requireReady = (): void => {
    if (!cache.ready) throw new GrpcCallError(GrpcStatus.UNAVAILABLE, 'agent is not ready: no data from the server yet');
  };

  const path = (m: string): string => `/${SERVICE_NAME}/${m}`;
  // Three plain parameters (a unary method gets no `send`): no rest array per call.
  type Handler<R> = (request: Buffer, call: CallContext<ConnectedPeer>, send: (m: Uint8Array) => void) => Promise<R>;
  const counted = <R>(method: string, fn: Handler<R>) => async (request: Buffer, call: CallContext<ConnectedPeer>, send?: (m: Uint8Array) => void): Promise<R> => {
    try {
      const r = await fn(request, call, send!);
      deps.metrics?.countCall(method, 'OK');
      return r;
    } catch (err) {
      deps.metrics?.countCall(method, err instanceof GrpcCallError ? codeName(err.status) : 'INTERNAL');
      throw err;
    }
  };

  const unimplemented = async (): Promise<never> => {
    throw new GrpcCallError(GrpcStatus.UNIMPLEMENTED, 'the WIT-SVID profile is not implemented by this agent');
  };

  return {
    [path('FetchX509SVID')]: {
      kind: 'server-stream',
      handler: counted('FetchX509SVID', async (request: Buffer, call: CallContext<ConnectedPeer>, send: (m: Uint8Array) => void) => {
        if (request.length > 0) decode(proto.X509SVIDRequest, request); // an empty message is always a valid (empty) X509SVIDRequest
        await stream(call, send, await attest(call), x509Svids, 'x509');
      }),
    },
    [path('FetchX509Bundles')]: {
      kind: 'server-stream',
      handler: counted('FetchX509Bundles', async (request: Buffer, call: CallContext<ConnectedPeer>, send: (m: Uint8Array) => void) => {
        decode(proto.X509BundlesRequest, request);
        await stream(call, send, await attest(call), (selectors) => {
          const b = bundlesFor(selectors, x509Der);
          return b === 'wait' ? b : encode(proto.X509BundlesResponse, { bundles: Object.fromEntries(b) });
        });
      }),
    },
    [path('FetchJWTBundles')]: {
      kind: 'server-stream',
      handler: counted('FetchJWTBundles', async (request: Buffer, call: CallContext<ConnectedPeer>, send: (m: Uint8Array) => void) => {
        decode(proto.JWTBundlesRequest, request);
        await stream(call, send, await attest(call), (selectors) => {
          const b = bundlesFor(selectors, jwks);
          return b === 'wait' ? b : encode(proto.JWTBundlesResponse, { bundles: Object.fromEntries(b) });
        });
      }),
    },
    [path('FetchJWTSVID')]: {
      kind: 'unary',
      handler: counted('FetchJWTSVID', async (request: Buffer, call: CallContext<ConnectedPeer>) => {
        const req = decode(proto.JWTSVIDRequest, request) as { audience?: string[]; spiffe_id?: string };
        const audience = (req.audience ?? []).filter((a) => a.length > 0);
        if (audience.length === 0) throw new GrpcCallError(GrpcStatus.INVALID_ARGUMENT, 'audience must be specified');
        if (audience.length > MAX_AUDIENCES || audience.some((a) => a.length > 1024)) throw new GrpcCallError(GrpcStatus.INVALID_ARGUMENT, `at most ${MAX_AUDIENCES} audiences of at most 1024 bytes`);
        let wanted: string | undefined;
        if (req.spiffe_id) {
          try {
            wanted = SpiffeId.parse(req.spiffe_id).toString();
          } catch (err) {
            throw new GrpcCallError(GrpcStatus.INVALID_ARGUMENT, `invalid requested SPIFFE ID: ${(err as Error).message}`);
          }
        }
        const selectors = await attest(call);
        requireReady();
        const entries = cache.match(selectors).filter((e) => wanted === undefined || e.spiffeId === wanted);
        if (entries.length === 0) throw new GrpcCallError(GrpcStatus.PERMISSION_DENIED, NO_IDENTITY);
        const seen = new Set<string>();
        const hints = new Set<string>();
        const svids: Record<string, unknown>[] = [];
        for (const e of entries) {
          if (seen.has(e.spiffeId)) continue;
          seen.add(e.spiffeId);
          if (e.hint !== '') {
            if (hints.has(e.hint)) continue;
            hints.add(e.hint);
          }
          let token: string;
          try {
            token = await deps.jwtCache.get(e.spiffeId, audience, () => deps.fetchJwt(e, audience));
          } catch (err) {
            deps.log.warn({ err: (err as Error).message }, 'could not fetch a JWT-SVID from the server');
            throw new GrpcCallError(GrpcStatus.UNAVAILABLE, 'could not fetch a JWT-SVID: the server is unreachable');
          }
          svids.push({ spiffe_id: e.spiffeId, svid: token, hint: e.hint });
        }
        deps.metrics?.countServed('jwt', svids.length);
        return encode(proto.JWTSVIDResponse, { svids });
      }),
    },
    [path('ValidateJWTSVID')]: {
      kind: 'unary',
      handler: counted('ValidateJWTSVID', async (request: Buffer, call: CallContext<ConnectedPeer>) => {
        const req = decode(proto.ValidateJWTSVIDRequest, request) as { audience?: string; svid?: string };
        if (!req.audience) throw new GrpcCallError(GrpcStatus.INVALID_ARGUMENT, 'audience must be specified');
        if (!req.svid) throw new GrpcCallError(GrpcStatus.INVALID_ARGUMENT, 'svid must be specified');
        const selectors = await attest(call);
        requireReady();
        const b = bundlesFor(selectors, () => Buffer.alloc(0));
        if (b === 'wait') throw new GrpcCallError(GrpcStatus.UNAVAILABLE, 'agent is not ready');
        const entries = cache.match(selectors);
        const set = new BundleSet([cache.bundle!, ...federatedFor(entries).values()]);
        let jwt: JwtSvid;
        try {
          jwt = JwtSvid.parseAndValidate(req.svid, set, req.audience);
        } catch (err) {
          throw new GrpcCallError(GrpcStatus.INVALID_ARGUMENT, (err as Error).message);
        }
        return encode(proto.ValidateJWTSVIDResponse, { spiffe_id: jwt.id.toString(), claims: toStruct({ ...jwt.claims, aud: [...jwt.audience] }) });
      }),
    },
    [path('FetchWITSVID')]: { kind: 'server-stream', handler: counted('FetchWITSVID', unimplemented) },
    [path('FetchWITBundles')]: { kind: 'server-stream', handler: counted('FetchWITBundles', unimplemented) },
  };
}

function decode(type: { decode(b: Uint8Array): unknown; toObject(m: any, o?: object): Record<string, unknown> }, bytes: Buffer): Record<string, unknown> {
  try {
    return type.toObject(type.decode(bytes), { defaults: true });
  } catch {
    throw new GrpcCallError(GrpcStatus.INVALID_ARGUMENT, 'malformed request message');
  }
}

const CODE_NAMES = new Map<number, string>(Object.entries(GrpcStatus).map(([k, v]) => [v, k]));
function codeName(code: number): string {
  return CODE_NAMES.get(code) ?? String(code);
}
