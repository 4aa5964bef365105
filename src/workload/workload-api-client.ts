/**
 * A client of the SPIFFE Workload API (gRPC, official proto), for meshward's
 * agent or any other (SPIRE's). Every call carries `workload.spiffe.io: true`.
 *
 * Streams (`watch…`) are kept open and re-established when they end, with a
 * linear backoff of 1 s, 2 s, 3 s … capped at 30 s (reset by a good
 * message), after `Unavailable` (including "the socket does not exist yet"),
 * `PermissionDenied` and any other ending; never after `InvalidArgument` or
 * `Unimplemented`, which are reported as final. Unary calls wait for the
 * endpoint to become ready until their deadline.
 */
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { BundleSet } from '../spiffe/bundle-set.js';
import type { JwtSvid } from '../spiffe/jwt/jwt-svid.js';
import type { SpiffeId } from '../spiffe/spiffe-id.js';
import type { X509Svid } from '../spiffe/x509/x509-svid.js';
import { resolveWorkloadEndpoint, type WorkloadEndpoint } from './endpoint.js';
import { WorkloadError } from './errors.js';
import { sdkLogger, type WorkloadLogger } from './logger.js';
import { parseJwtBundlesResponse, parseJwtSvidResponse, parseX509BundlesResponse, parseX509SvidResponse, type X509Context } from './workload-response.js';

export const SECURITY_HEADER = 'workload.spiffe.io';

const PROTO_PATH = fileURLToPath(new URL('../../proto/workload.proto', import.meta.url));
let serviceConstructor: grpc.ServiceClientConstructor | undefined;

/** The generic client of the official `SpiffeWorkloadAPI` service (shared with tests and the agent's tests). */
export function workloadApiDefinition(): { service: grpc.ServiceDefinition; Client: grpc.ServiceClientConstructor } {
  if (!serviceConstructor) {
    const def = protoLoader.loadSync(PROTO_PATH, { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
    serviceConstructor = (grpc.loadPackageDefinition(def) as unknown as { SpiffeWorkloadAPI: grpc.ServiceClientConstructor }).SpiffeWorkloadAPI;
  }
  return { service: serviceConstructor.service, Client: serviceConstructor };
}

export interface BackoffOptions {
  /** First delay and step of the linear backoff, ms (default 1000). */
  readonly stepMs?: number;
  /** Cap, ms (default 30000). */
  readonly maxMs?: number;
}

export interface WorkloadApiClientOptions {
  /** `unix:///path` or `tcp://IP:port`; default `SPIFFE_ENDPOINT_SOCKET`. */
  readonly address?: string;
  readonly logger?: WorkloadLogger;
  readonly backoff?: BackoffOptions;
  /** Deadline of unary calls and one-shot fetches, ms (default 30000). */
  readonly timeoutMs?: number;
}

export interface Watcher<T> {
  /** A new, valid snapshot. */
  onUpdate(value: T): void;
  /** A stream error; `final` when the client will not retry (InvalidArgument, Unimplemented). */
  onError?(error: WorkloadError, final: boolean): void;
  /** The stream ended in PermissionDenied: the caller no longer has an identity. */
  onPermissionDenied?(error: WorkloadError): void;
}

export interface Watch {
  close(): void;
}

type StreamMethod = 'FetchX509SVID' | 'FetchX509Bundles' | 'FetchJWTBundles';
type AnyClient = grpc.Client & Record<string, (...args: unknown[]) => unknown>;

const FINAL_CODES = new Set([grpc.status.INVALID_ARGUMENT, grpc.status.UNIMPLEMENTED]);

export class WorkloadApiClient {
  readonly endpoint: WorkloadEndpoint;
  readonly #client: AnyClient;
  readonly #log: WorkloadLogger;
  readonly #stepMs: number;
  readonly #maxMs: number;
  readonly #timeoutMs: number;
  readonly #watches = new Set<Watch>();
  #closed = false;

  constructor(options: WorkloadApiClientOptions = {}) {
    this.endpoint = resolveWorkloadEndpoint(options.address);
    this.#log = sdkLogger(options.logger);
    this.#stepMs = options.backoff?.stepMs ?? 1000;
    this.#maxMs = options.backoff?.maxMs ?? 30_000;
    if (!(this.#stepMs > 0) || !(this.#maxMs >= this.#stepMs)) throw new RangeError('backoff: stepMs must be > 0 and maxMs >= stepMs');
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    const { Client } = workloadApiDefinition();
    this.#client = new Client(this.endpoint.target, grpc.credentials.createInsecure(), {
      'grpc.initial_reconnect_backoff_ms': Math.min(this.#stepMs, 1000),
      'grpc.max_reconnect_backoff_ms': this.#maxMs,
      'grpc.enable_retries': 0,
      // the authority of a unix socket is meaningless; keep it constant
      'grpc.default_authority': 'localhost',
    }) as AnyClient;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The default X.509-SVID (the first usable one). */
  async fetchX509Svid(): Promise<X509Svid> {
    return (await this.fetchX509Context()).svids[0]!;
  }

  async fetchX509Svids(): Promise<readonly X509Svid[]> {
    return (await this.fetchX509Context()).svids;
  }

  fetchX509Context(): Promise<X509Context> {
    return this.#fetchFirst('FetchX509SVID', (m) => parseX509SvidResponse(m as never, this.#log));
  }

  watchX509Context(watcher: Watcher<X509Context>): Watch {
    return this.#watch('FetchX509SVID', (m) => parseX509SvidResponse(m as never, this.#log), watcher);
  }

  fetchX509Bundles(): Promise<BundleSet> {
    return this.#fetchFirst('FetchX509Bundles', (m) => parseX509BundlesResponse(m as never, this.#log));
  }

  watchX509Bundles(watcher: Watcher<BundleSet>): Watch {
    return this.#watch('FetchX509Bundles', (m) => parseX509BundlesResponse(m as never, this.#log), watcher);
  }

  fetchJwtBundles(): Promise<BundleSet> {
    return this.#fetchFirst('FetchJWTBundles', (m) => parseJwtBundlesResponse(m as never, this.#log));
  }

  watchJwtBundles(watcher: Watcher<BundleSet>): Watch {
    return this.#watch('FetchJWTBundles', (m) => parseJwtBundlesResponse(m as never, this.#log), watcher);
  }

  /** The first usable JWT-SVID for `audience` (optionally for one of our identities, `subject`). */
  async fetchJwtSvid(params: { audience: string | readonly string[]; subject?: SpiffeId | string }): Promise<JwtSvid> {
    return (await this.fetchJwtSvids(params))[0]!;
  }

  async fetchJwtSvids(params: { audience: string | readonly string[]; subject?: SpiffeId | string }): Promise<JwtSvid[]> {
    const audience = typeof params?.audience === 'string' ? [params.audience] : [...(params?.audience ?? [])];
    if (audience.length === 0 || audience.some((a) => typeof a !== 'string' || a === '')) throw new TypeError('audience must be a non-empty string or list of them');
    const response = await this.#unary('FetchJWTSVID', { audience, spiffe_id: params.subject === undefined ? '' : String(params.subject) });
    return parseJwtSvidResponse(response as never, audience, this.#log);
  }

  /** Asks the Workload API to validate a JWT-SVID for `audience`; returns its SPIFFE ID and claims. */
  async validateJwtSvid(token: string, audience: string): Promise<{ spiffeId: string; claims: Record<string, unknown> }> {
    if (typeof token !== 'string' || token === '') throw new TypeError('token must be a non-empty string');
    if (typeof audience !== 'string' || audience === '') throw new TypeError('audience must be a non-empty string');
    const response = (await this.#unary('ValidateJWTSVID', { audience, svid: token })) as { spiffe_id?: string; claims?: { fields?: Record<string, unknown> } };
    if (!response.spiffe_id) throw new WorkloadError('ERR_WORKLOAD_INVALID_RESPONSE', 'ValidateJWTSVID answered without a SPIFFE ID');
    return { spiffeId: response.spiffe_id, claims: structToObject(response.claims) };
  }

  /** Ends every watch and the channel; later calls fail with ERR_WORKLOAD_CLIENT_CLOSED. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const w of [...this.#watches]) w.close();
    this.#client.close();
  }

  #metadata(): grpc.Metadata {
    const md = new grpc.Metadata();
    md.set(SECURITY_HEADER, 'true');
    return md;
  }

  #checkOpen(): void {
    if (this.#closed) throw new WorkloadError('ERR_WORKLOAD_CLIENT_CLOSED', 'the Workload API client is closed');
  }

  #unary(method: 'FetchJWTSVID' | 'ValidateJWTSVID', request: object): Promise<unknown> {
    this.#checkOpen();
    return new Promise((resolve, reject) => {
      const deadline = Date.now() + this.#timeoutMs;
      this.#client[method]!(request, this.#metadata(), { deadline, waitForReady: true }, (err: grpc.ServiceError | null, response: unknown) => {
        if (err) reject(rpcError(method, err));
        else resolve(response);
      });
    });
  }

  /** One snapshot of a stream: waits for the endpoint, takes the first message, cancels. */
  #fetchFirst<T>(method: StreamMethod, parse: (m: unknown) => T): Promise<T> {
    this.#checkOpen();
    return new Promise((resolve, reject) => {
      let done = false;
      const call = this.#client[method]!({}, this.#metadata(), { deadline: Date.now() + this.#timeoutMs, waitForReady: true }) as grpc.ClientReadableStream<unknown>;
      const finish = (err: Error | null, value?: T) => {
        if (done) return;
        done = true;
        call.cancel();
        if (err) reject(err);
        else resolve(value as T);
      };
      call.on('data', (m: unknown) => {
        try {
          finish(null, parse(m));
        } catch (err) {
          finish(err as Error);
        }
      });
      call.on('error', (err: grpc.ServiceError) => finish(rpcError(method, err)));
      call.on('end', () => finish(new WorkloadError('ERR_WORKLOAD_RPC', `${method} ended without a response`)));
    });
  }

  #watch<T>(method: StreamMethod, parse: (m: unknown) => T, watcher: Watcher<T>): Watch {
    this.#checkOpen();
    let stopped = false;
    let attempt = 0;
    let call: grpc.ClientReadableStream<unknown> | undefined;
    let timer: NodeJS.Timeout | undefined;
    const watch: Watch = {
      close: () => {
        stopped = true;
        if (timer) clearTimeout(timer);
        call?.cancel();
        this.#watches.delete(watch);
      },
    };
    this.#watches.add(watch);
    const retry = () => {
      if (stopped) return;
      attempt++;
      const delay = Math.min(this.#stepMs * attempt, this.#maxMs);
      this.#log.debug({ method, delayMs: delay }, 'Workload API stream will be re-established');
      timer = setTimeout(start, delay);
      timer.unref?.();
    };
    const start = () => {
      if (stopped) return;
      let ended = false;
      const current = this.#client[method]!({}, this.#metadata()) as grpc.ClientReadableStream<unknown>;
      call = current;
      current.on('data', (m: unknown) => {
        if (stopped) return;
        let value: T;
        try {
          value = parse(m);
        } catch (err) {
          this.#log.warn({ method, code: (err as WorkloadError).code, reason: (err as Error).message }, 'Workload API message discarded; keeping the last good state');
          return;
        }
        attempt = 0;
        watcher.onUpdate(value);
      });
      current.on('error', (err: grpc.ServiceError) => {
        if (ended || stopped) return;
        ended = true;
        const error = rpcError(method, err);
        if (err.code === grpc.status.CANCELLED && stopped) return;
        if (FINAL_CODES.has(err.code)) {
          this.#log.error({ method, grpcCode: err.code, reason: err.details }, 'Workload API refused the request; not retrying');
          watcher.onError?.(error, true);
          watch.close();
          return;
        }
        if (err.code === grpc.status.PERMISSION_DENIED) watcher.onPermissionDenied?.(error);
        else watcher.onError?.(error, false);
        retry();
      });
      current.on('end', () => {
        if (ended || stopped) return;
        ended = true;
        retry();
      });
    };
    start();
    return watch;
  }
}

function rpcError(method: string, err: grpc.ServiceError): WorkloadError {
  const name = grpc.status[err.code] ?? String(err.code);
  return new WorkloadError('ERR_WORKLOAD_RPC', `Workload API ${method} failed: ${name}: ${err.details ?? err.message}`, { grpcCode: err.code, cause: err });
}

/** google.protobuf.Struct (as proto-loader hands it over) to a plain object. */
function structToObject(struct: { fields?: Record<string, unknown> } | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(struct?.fields ?? {})) out[k] = valueToJs(v as ProtoValue);
  return out;
}

interface ProtoValue {
  kind?: string;
  nullValue?: unknown;
  numberValue?: number;
  stringValue?: string;
  boolValue?: boolean;
  structValue?: { fields?: Record<string, unknown> };
  listValue?: { values?: ProtoValue[] };
}

function valueToJs(v: ProtoValue): unknown {
  switch (v?.kind) {
    case 'numberValue':
      return v.numberValue;
    case 'stringValue':
      return v.stringValue;
    case 'boolValue':
      return v.boolValue;
    case 'structValue':
      return structToObject(v.structValue);
    case 'listValue':
      return (v.listValue?.values ?? []).map(valueToJs);
    default:
      return null;
  }
}
