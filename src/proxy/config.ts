/**
 * The proxy's configuration: a YAML file (`--config`) or, for the common
 * case, flags alone. Both produce one validated `ProxyConfig`; anything
 * invalid throws `ERR_PROXY_CONFIG` naming the key (the CLI exits 2).
 *
 * Reference: docs/proxy.md#configuration-reference.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { SpiffeId } from '../spiffe/spiffe-id.js';
import { TrustDomain } from '../spiffe/trust-domain.js';
import { configError } from './proxy-error.js';

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

export interface RateLimitConfig {
  readonly ratePerSecond: number;
  readonly burst?: number;
  /** `local` (per proxy process) or `redis` (shared through MESHWARD_REDIS_URL). */
  readonly scope: 'local' | 'redis';
  /** Required for `redis`: what happens when Redis is unreachable. */
  readonly failureMode: 'open' | 'closed';
}

export interface BulkheadConfig {
  readonly maxConcurrent: number;
  readonly maxQueue: number;
  readonly queueTimeoutMs: number;
}

export interface RouteConfig {
  readonly name: string;
  /** Path prefix of the normalized path (default `/`: every path). */
  readonly pathPrefix: string;
  /** Methods this route covers (default: all). */
  readonly methods: readonly string[] | undefined;
  readonly rateLimit: RateLimitConfig | undefined;
  readonly bulkhead: BulkheadConfig | undefined;
  readonly contentTypes: readonly string[] | undefined;
  readonly schema: object | undefined;
  readonly maxBodyBytes: number | undefined;
  /** Forward only after the allowed record is durable; 503 when the audit sink fails. */
  readonly mustAudit: boolean;
}

export interface InboundConfig {
  readonly listen: HostPort;
  readonly app: HostPort;
  readonly protocol: 'http' | 'tcp';
  readonly mode: 'STRICT' | 'PERMISSIVE';
  /** Trust domains whose members may connect at the TLS layer (default: our own). Authorization is the policy's job. */
  readonly trustDomains: readonly string[] | undefined;
  /** Serve HTTP/2 (ALPN h2) beside HTTP/1.1; default true. */
  readonly http2: boolean;
  /** Revoked certificate serials (hex, any case), refused at the handshake. */
  readonly revokedSerials: readonly string[];
  /** A file with one revoked serial per line, reloaded on change. */
  readonly revocationFile: string | undefined;
  readonly appTimeoutMs: number;
  readonly maxRequestsPerConnection: number;
  readonly maxHeaderBytes: number;
  readonly maxBodyBytes: number;
  /** Keep-alive sockets to the app. */
  readonly appConnections: number;
  /** JWT-SVID authentication of requests (HTTP only); undefined: the Authorization header is the app's business. */
  readonly jwt: JwtConfig | undefined;
}

export interface JwtConfig {
  /** Audiences accepted; a token must name at least one. */
  readonly audience: readonly string[];
  /** A request without a token gets 401 (else it passes with no request principal). */
  readonly required: boolean;
  /** Keep the Authorization header for the app (Istio `forwardOriginalToken`); default false: stripped. */
  readonly forwardOriginalToken: boolean;
  /** Accept each token once (jti, else its hash) until it expires. Clients must then fetch a token per request. */
  readonly replay: boolean;
  /** Refuse tokens without `kid` (go-spiffe, SECURITY-CASES 25); default true. */
  readonly requireKeyId: boolean;
}

/** Envoy outlier detection (consecutive 5xx) for a destination with several endpoints. */
export interface OutlierDetectionConfig {
  /** Consecutive 5xx answers, connect failures or timeouts that eject an endpoint; default 5. */
  readonly consecutive5xx: number;
  /** First ejection time; the n-th ejection lasts n × this; default 30,000 ms. */
  readonly baseEjectionMs: number;
  /** Longest ejection; default 300,000 ms. */
  readonly maxEjectionMs: number;
  /** Most endpoints ejected at once, in percent (at least one is always ejectable); default 10. */
  readonly maxEjectionPercent: number;
}

export interface OutboundConfig {
  readonly listen: HostPort;
  /** The first of `upstreams` (the only one when the config says `upstream: host:port`). */
  readonly upstream: HostPort;
  /** Every endpoint of the destination, used round-robin among those not ejected. */
  readonly upstreams: readonly HostPort[];
  /** The SPIFFE ID the destination must present. */
  readonly spiffeId: string;
  readonly timeoutMs: number;
  readonly retries: number;
  readonly breaker: { readonly failures: number; readonly openMs: number; readonly halfOpenProbes: number } | undefined;
  /** Applies when there are at least two endpoints. */
  readonly outlierDetection: OutlierDetectionConfig;
}

export interface IdentityConfig {
  /** Workload API address (`unix:///path` or a path); from SPIFFE_ENDPOINT_SOCKET by default. */
  readonly socket: string | undefined;
  /**
   * PEM files instead of the Workload API (spiffe-helper layout), plus, for
   * `inbound.jwt`, the JWT bundles: trust domain → SPIFFE bundle or JWKS file.
   */
  readonly files: { readonly cert: string; readonly key: string; readonly bundle: string; readonly jwtBundles?: Readonly<Record<string, string>> } | undefined;
}

export interface ProxyConfig {
  readonly workload: { readonly namespace: string; readonly labels: Readonly<Record<string, string>>; readonly name: string | undefined };
  readonly identity: IdentityConfig;
  readonly inbound: InboundConfig | undefined;
  readonly outbound: readonly OutboundConfig[];
  /** Policy files (Istio AuthorizationPolicy YAML); none: any caller of the local trust domain. */
  readonly policyFiles: readonly string[];
  /**
   * `workload-api`: inbound authorization uses the policies the server
   * distributes, streamed by the agent (`policySource` / `--policy-source`);
   * fails closed until the first set and on an invalid one. Exclusive with `policy`.
   */
  readonly policySource?: { readonly kind: 'workload-api'; readonly address: string };
  readonly routes: readonly RouteConfig[];
  readonly lockout: { readonly maxFailures: number; readonly windowMs: number; readonly cooldownMs: number };
  readonly metrics: HostPort | undefined;
  readonly audit: { readonly file: string | undefined; readonly sqlite: string | undefined; readonly postgres: string | undefined; readonly flushIntervalMs: number };
  readonly redisUrl: string | undefined;
  readonly logLevel: string;
}

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function known(obj: Obj, key: string, allowed: readonly string[]): void {
  for (const k of Object.keys(obj)) if (!allowed.includes(k)) throw configError(key ? `${key}.${k}` : k, 'unknown key');
}

export function parseHostPort(value: unknown, key: string): HostPort {
  if (typeof value !== 'string') throw configError(key, 'expected "host:port"');
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(value.trim());
  if (!m) throw configError(key, `expected "host:port", got ${JSON.stringify(value)}`);
  const port = Number(m[2]);
  if (port < 0 || port > 65535) throw configError(key, `port out of range in ${JSON.stringify(value)}`);
  const host = m[1]!.startsWith('[') ? m[1]!.slice(1, -1) : m[1]!;
  return { host, port };
}

function int(v: unknown, key: string, dflt: number, min = 0): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) throw configError(key, `expected an integer >= ${min}`);
  return v;
}

function num(v: unknown, key: string, min: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= min) throw configError(key, `expected a number > ${min}`);
  return v;
}

function str(v: unknown, key: string): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v === '') throw configError(key, 'expected a non-empty string');
  return v;
}

function strList(v: unknown, key: string): string[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || x === '')) throw configError(key, 'expected a list of strings');
  return v as string[];
}

/** `{ <trust domain>: <file> }`, trust domain names checked. */
function trustDomainFiles(v: unknown, key: string): Record<string, string> | undefined {
  if (v === undefined) return undefined;
  if (!isObj(v) || Object.keys(v).length === 0) throw configError(key, 'expected a map of <trust domain>: <file>');
  const out: Record<string, string> = {};
  for (const [name, file] of Object.entries(v)) {
    let td: TrustDomain;
    try {
      td = TrustDomain.parse(name);
    } catch (err) {
      throw configError(`${key}.${name}`, (err as Error).message);
    }
    if (typeof file !== 'string' || file === '') throw configError(`${key}.${name}`, 'expected a file path');
    out[td.name] = file;
  }
  return out;
}

function bool(v: unknown, key: string, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') throw configError(key, 'expected true or false');
  return v;
}

function spiffeId(v: unknown, key: string): string {
  if (typeof v !== 'string') throw configError(key, 'expected a SPIFFE ID');
  try {
    return SpiffeId.parse(v).toString();
  } catch (err) {
    throw configError(key, (err as Error).message);
  }
}

const LABEL_KEY = /^[A-Za-z0-9]([A-Za-z0-9._/-]{0,251}[A-Za-z0-9])?$/;

function labels(v: unknown, key: string): Record<string, string> {
  if (v === undefined) return {};
  if (!isObj(v)) throw configError(key, 'expected a map of label: value');
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) {
    if (!LABEL_KEY.test(k)) throw configError(`${key}.${k}`, 'invalid label name');
    if (typeof val !== 'string') throw configError(`${key}.${k}`, 'label values are strings');
    out[k] = val;
  }
  return out;
}

function rateLimit(v: unknown, key: string): RateLimitConfig | undefined {
  if (v === undefined) return undefined;
  if (!isObj(v)) throw configError(key, 'expected { ratePerSecond, burst?, scope?, failureMode? }');
  known(v, key, ['ratePerSecond', 'burst', 'scope', 'failureMode']);
  const scope = v.scope ?? 'local';
  if (scope !== 'local' && scope !== 'redis') throw configError(`${key}.scope`, 'expected "local" or "redis"');
  const failureMode = v.failureMode;
  if (scope === 'redis' && failureMode !== 'open' && failureMode !== 'closed') throw configError(`${key}.failureMode`, 'a Redis limit must say "open" or "closed" (there is no default)');
  if (failureMode !== undefined && failureMode !== 'open' && failureMode !== 'closed') throw configError(`${key}.failureMode`, 'expected "open" or "closed"');
  return {
    ratePerSecond: num(v.ratePerSecond, `${key}.ratePerSecond`, 0),
    ...(v.burst === undefined ? {} : { burst: int(v.burst, `${key}.burst`, 1, 1) }),
    scope,
    failureMode: (failureMode as 'open' | 'closed' | undefined) ?? 'open',
  };
}

function bulkhead(v: unknown, key: string): BulkheadConfig | undefined {
  if (v === undefined) return undefined;
  if (!isObj(v)) throw configError(key, 'expected { maxConcurrent, maxQueue?, queueTimeoutMs? }');
  known(v, key, ['maxConcurrent', 'maxQueue', 'queueTimeoutMs']);
  return {
    maxConcurrent: int(v.maxConcurrent, `${key}.maxConcurrent`, 0, 1),
    maxQueue: int(v.maxQueue, `${key}.maxQueue`, 0),
    queueTimeoutMs: int(v.queueTimeoutMs, `${key}.queueTimeoutMs`, 1000, 1),
  };
}

const METHOD = /^[A-Z]+$/;

function route(v: unknown, key: string, defaults: { rateLimit?: RateLimitConfig; bulkhead?: BulkheadConfig }): RouteConfig {
  if (!isObj(v)) throw configError(key, 'expected a route object');
  known(v, key, ['name', 'pathPrefix', 'methods', 'rateLimit', 'bulkhead', 'contentTypes', 'schema', 'maxBodyBytes', 'mustAudit']);
  const pathPrefix = str(v.pathPrefix, `${key}.pathPrefix`) ?? '/';
  if (!pathPrefix.startsWith('/')) throw configError(`${key}.pathPrefix`, 'must start with "/"');
  const methods = strList(v.methods, `${key}.methods`);
  if (methods?.some((m) => !METHOD.test(m))) throw configError(`${key}.methods`, 'methods are upper-case tokens (GET, POST, ...)');
  if (v.schema !== undefined && !isObj(v.schema)) throw configError(`${key}.schema`, 'expected a JSON Schema object');
  return {
    name: str(v.name, `${key}.name`) ?? pathPrefix,
    pathPrefix,
    methods,
    rateLimit: rateLimit(v.rateLimit, `${key}.rateLimit`) ?? defaults.rateLimit,
    bulkhead: bulkhead(v.bulkhead, `${key}.bulkhead`) ?? defaults.bulkhead,
    contentTypes: strList(v.contentTypes, `${key}.contentTypes`),
    schema: v.schema as object | undefined,
    maxBodyBytes: v.maxBodyBytes === undefined ? undefined : int(v.maxBodyBytes, `${key}.maxBodyBytes`, 0),
    mustAudit: bool(v.mustAudit, `${key}.mustAudit`, false),
  };
}

function inbound(v: unknown): InboundConfig | undefined {
  if (v === undefined) return undefined;
  const key = 'inbound';
  if (!isObj(v)) throw configError(key, 'expected an object');
  known(v, key, ['listen', 'app', 'protocol', 'mode', 'trustDomains', 'http2', 'revokedSerials', 'revocationFile', 'appTimeoutMs', 'maxRequestsPerConnection', 'maxHeaderBytes', 'maxBodyBytes', 'appConnections', 'jwt']);
  const protocol = v.protocol ?? 'http';
  if (protocol !== 'http' && protocol !== 'tcp') throw configError(`${key}.protocol`, 'expected "http" or "tcp"');
  const mode = v.mode ?? 'STRICT';
  if (mode !== 'STRICT' && mode !== 'PERMISSIVE') throw configError(`${key}.mode`, 'expected "STRICT" or "PERMISSIVE"');
  const serials = strList(v.revokedSerials, `${key}.revokedSerials`) ?? [];
  if (serials.some((s) => !/^[0-9a-fA-F:]+$/.test(s))) throw configError(`${key}.revokedSerials`, 'serials are hex strings');
  let jwt: InboundConfig['jwt'];
  if (v.jwt !== undefined) {
    if (!isObj(v.jwt)) throw configError(`${key}.jwt`, 'expected { audience, required?, forwardOriginalToken?, replay?, requireKeyId? }');
    known(v.jwt, `${key}.jwt`, ['audience', 'required', 'forwardOriginalToken', 'replay', 'requireKeyId']);
    if (protocol === 'tcp') throw configError(`${key}.jwt`, 'JWT-SVID authentication needs HTTP; it cannot apply with protocol: tcp');
    const audience = strList(v.jwt.audience, `${key}.jwt.audience`);
    if (!audience || audience.length === 0) throw configError(`${key}.jwt.audience`, 'at least one audience is required');
    jwt = {
      audience,
      required: bool(v.jwt.required, `${key}.jwt.required`, false),
      forwardOriginalToken: bool(v.jwt.forwardOriginalToken, `${key}.jwt.forwardOriginalToken`, false),
      replay: bool(v.jwt.replay, `${key}.jwt.replay`, false),
      requireKeyId: bool(v.jwt.requireKeyId, `${key}.jwt.requireKeyId`, true),
    };
  }
  return {
    listen: parseHostPort(v.listen, `${key}.listen`),
    app: parseHostPort(v.app, `${key}.app`),
    protocol,
    mode,
    trustDomains: strList(v.trustDomains, `${key}.trustDomains`),
    http2: bool(v.http2, `${key}.http2`, true),
    revokedSerials: serials.map(normalizeSerial),
    revocationFile: str(v.revocationFile, `${key}.revocationFile`),
    appTimeoutMs: int(v.appTimeoutMs, `${key}.appTimeoutMs`, 30_000, 1),
    maxRequestsPerConnection: int(v.maxRequestsPerConnection, `${key}.maxRequestsPerConnection`, 10_000, 1),
    maxHeaderBytes: int(v.maxHeaderBytes, `${key}.maxHeaderBytes`, 16 * 1024, 1024),
    maxBodyBytes: int(v.maxBodyBytes, `${key}.maxBodyBytes`, 1024 * 1024, 0),
    appConnections: int(v.appConnections, `${key}.appConnections`, 256, 1),
    jwt,
  };
}

export function normalizeSerial(s: string): string {
  return s.replace(/:/g, '').toLowerCase().replace(/^0+(?=.)/, '');
}

/** `upstream: host:port` or `upstreams: [host:port, ...]`, exactly one of the two. */
function upstreams(v: Obj, key: string): HostPort[] {
  if (v.upstream !== undefined && v.upstreams !== undefined) throw configError(`${key}.upstreams`, 'give either upstream or upstreams, not both');
  if (v.upstreams === undefined) return [parseHostPort(v.upstream, `${key}.upstream`)];
  if (!Array.isArray(v.upstreams) || v.upstreams.length === 0) throw configError(`${key}.upstreams`, 'expected a non-empty list of "host:port"');
  const seen = new Set<string>();
  return v.upstreams.map((u: unknown, i: number) => {
    const hp = parseHostPort(u, `${key}.upstreams[${i}]`);
    const name = `${hp.host.toLowerCase()}:${hp.port}`;
    if (seen.has(name)) throw configError(`${key}.upstreams[${i}]`, `${JSON.stringify(u)} is listed twice`);
    seen.add(name);
    return hp;
  });
}

function outlierDetection(v: unknown, key: string): OutlierDetectionConfig {
  const o = v ?? {};
  if (!isObj(o)) throw configError(key, 'expected { consecutive5xx?, baseEjectionMs?, maxEjectionMs?, maxEjectionPercent? }');
  known(o, key, ['consecutive5xx', 'baseEjectionMs', 'maxEjectionMs', 'maxEjectionPercent']);
  const baseEjectionMs = int(o.baseEjectionMs, `${key}.baseEjectionMs`, 30_000, 1);
  const maxEjectionMs = int(o.maxEjectionMs, `${key}.maxEjectionMs`, Math.max(300_000, baseEjectionMs), 1);
  if (maxEjectionMs < baseEjectionMs) throw configError(`${key}.maxEjectionMs`, `must be at least baseEjectionMs (${baseEjectionMs})`);
  const maxEjectionPercent = int(o.maxEjectionPercent, `${key}.maxEjectionPercent`, 10, 0);
  if (maxEjectionPercent > 100) throw configError(`${key}.maxEjectionPercent`, 'expected a percentage, 0 to 100');
  return { consecutive5xx: int(o.consecutive5xx, `${key}.consecutive5xx`, 5, 1), baseEjectionMs, maxEjectionMs, maxEjectionPercent };
}

function outbound(v: unknown, key: string): OutboundConfig {
  if (!isObj(v)) throw configError(key, 'expected { listen, upstream | upstreams, spiffeId }');
  known(v, key, ['listen', 'upstream', 'upstreams', 'spiffeId', 'timeoutMs', 'retries', 'breaker', 'outlierDetection']);
  let breaker: OutboundConfig['breaker'];
  if (v.breaker !== undefined) {
    if (!isObj(v.breaker)) throw configError(`${key}.breaker`, 'expected { failures, openMs, halfOpenProbes }');
    known(v.breaker, `${key}.breaker`, ['failures', 'openMs', 'halfOpenProbes']);
    breaker = {
      failures: int(v.breaker.failures, `${key}.breaker.failures`, 5, 1),
      openMs: int(v.breaker.openMs, `${key}.breaker.openMs`, 10_000, 1),
      halfOpenProbes: int(v.breaker.halfOpenProbes, `${key}.breaker.halfOpenProbes`, 1, 1),
    };
  }
  const listen = parseHostPort(v.listen, `${key}.listen`);
  const endpoints = upstreams(v, key);
  return {
    listen,
    upstream: endpoints[0]!,
    upstreams: endpoints,
    spiffeId: spiffeId(v.spiffeId, `${key}.spiffeId`),
    timeoutMs: int(v.timeoutMs, `${key}.timeoutMs`, 15_000, 1),
    retries: int(v.retries, `${key}.retries`, 1, 0),
    breaker,
    outlierDetection: outlierDetection(v.outlierDetection, `${key}.outlierDetection`),
  };
}

/** Validates a parsed YAML document (and the environment) into a ProxyConfig. */
export function parseProxyConfig(doc: unknown, env: NodeJS.ProcessEnv = process.env): ProxyConfig {
  if (!isObj(doc)) throw configError('(root)', 'expected a YAML mapping');
  known(doc, '', ['workload', 'identity', 'inbound', 'outbound', 'policy', 'policySource', 'routes', 'defaults', 'lockout', 'metrics', 'audit', 'redisUrl', 'logLevel']);
  const w = doc.workload ?? {};
  if (!isObj(w)) throw configError('workload', 'expected { namespace, labels }');
  known(w, 'workload', ['namespace', 'labels', 'name']);
  const id = doc.identity ?? {};
  if (!isObj(id)) throw configError('identity', 'expected { socket } or { files: { cert, key, bundle } }');
  known(id, 'identity', ['socket', 'files']);
  let files: IdentityConfig['files'];
  if (id.files !== undefined) {
    if (!isObj(id.files)) throw configError('identity.files', 'expected { cert, key, bundle, jwtBundles? }');
    known(id.files, 'identity.files', ['cert', 'key', 'bundle', 'jwtBundles']);
    files = { cert: str(id.files.cert, 'identity.files.cert')!, key: str(id.files.key, 'identity.files.key')!, bundle: str(id.files.bundle, 'identity.files.bundle')! };
    if (!files.cert || !files.key || !files.bundle) throw configError('identity.files', 'cert, key and bundle are all required');
    const jwtBundles = trustDomainFiles(id.files.jwtBundles, 'identity.files.jwtBundles');
    if (jwtBundles) files = { ...files, jwtBundles };
  }
  const socket = str(id.socket, 'identity.socket') ?? (files ? undefined : env.SPIFFE_ENDPOINT_SOCKET || undefined);
  if (!socket && !files) throw configError('identity', 'no identity: set SPIFFE_ENDPOINT_SOCKET, --socket, or identity.files');

  const d = doc.defaults ?? {};
  if (!isObj(d)) throw configError('defaults', 'expected { rateLimit?, bulkhead? }');
  known(d, 'defaults', ['rateLimit', 'bulkhead']);
  const defaults = { rateLimit: rateLimit(d.rateLimit, 'defaults.rateLimit'), bulkhead: bulkhead(d.bulkhead, 'defaults.bulkhead') };
  if (doc.routes !== undefined && !Array.isArray(doc.routes)) throw configError('routes', 'expected a list');
  const routes = ((doc.routes as unknown[] | undefined) ?? []).map((r, i) => route(r, `routes[${i}]`, defaults));
  if (!routes.some((r) => r.pathPrefix === '/' && r.methods === undefined)) routes.push(route({ name: 'default' }, 'routes[default]', defaults));

  if (doc.outbound !== undefined && !Array.isArray(doc.outbound)) throw configError('outbound', 'expected a list');
  const outs = ((doc.outbound as unknown[] | undefined) ?? []).map((o, i) => outbound(o, `outbound[${i}]`));

  const policy = doc.policy === undefined ? [] : typeof doc.policy === 'string' ? [doc.policy] : strList(doc.policy, 'policy')!;
  let policySource: ProxyConfig['policySource'];
  const ps = str(doc.policySource, 'policySource');
  if (ps !== undefined) {
    if (ps !== 'workload-api') throw configError('policySource', `expected "workload-api", got ${JSON.stringify(ps)}`);
    if (policy.length > 0) throw configError('policySource', 'policySource (--policy-source) and policy (--policy) are exclusive: choose one');
    const address = socket ?? (env.SPIFFE_ENDPOINT_SOCKET || undefined);
    if (!address) throw configError('policySource', 'workload-api needs the agent socket: identity.socket, --socket or SPIFFE_ENDPOINT_SOCKET');
    policySource = { kind: 'workload-api', address };
  }
  const lo = doc.lockout ?? {};
  if (!isObj(lo)) throw configError('lockout', 'expected { maxFailures, windowMs, cooldownMs }');
  known(lo, 'lockout', ['maxFailures', 'windowMs', 'cooldownMs']);
  const au = doc.audit ?? {};
  if (!isObj(au)) throw configError('audit', 'expected { file | sqlite | postgres }');
  known(au, 'audit', ['file', 'sqlite', 'postgres', 'flushIntervalMs']);
  const m = doc.metrics;
  let metrics: HostPort | undefined;
  if (m !== undefined) {
    if (!isObj(m)) throw configError('metrics', 'expected { bind }');
    known(m, 'metrics', ['bind']);
    metrics = parseHostPort(m.bind, 'metrics.bind');
  }
  const inb = inbound(doc.inbound);
  if (!inb && outs.length === 0) throw configError('inbound', 'nothing to do: configure inbound and/or outbound');
  // From the Workload API the JWT bundles come with the identity; files must name them.
  if (inb?.jwt && files && !files.jwtBundles) throw configError('identity.files.jwtBundles', 'inbound.jwt needs the JWT bundles: { <trust domain>: <SPIFFE bundle or JWKS file> }');
  const namespace = str(w.namespace, 'workload.namespace') ?? 'default';
  return {
    workload: { namespace, labels: labels(w.labels, 'workload.labels'), name: str(w.name, 'workload.name') },
    identity: { socket, files },
    inbound: inb,
    outbound: outs,
    policyFiles: policy,
    ...(policySource ? { policySource } : {}),
    routes,
    lockout: {
      maxFailures: int(lo.maxFailures, 'lockout.maxFailures', 5, 1),
      windowMs: int(lo.windowMs, 'lockout.windowMs', 60_000, 1),
      cooldownMs: int(lo.cooldownMs, 'lockout.cooldownMs', 300_000, 1),
    },
    metrics,
    audit: {
      file: str(au.file, 'audit.file'),
      sqlite: str(au.sqlite, 'audit.sqlite'),
      postgres: str(au.postgres, 'audit.postgres'),
      flushIntervalMs: int(au.flushIntervalMs, 'audit.flushIntervalMs', 100, 1),
    },
    redisUrl: str(doc.redisUrl, 'redisUrl') ?? (env.MESHWARD_REDIS_URL || undefined),
    logLevel: str(doc.logLevel, 'logLevel') ?? 'info',
  };
}

/** Reads and validates a YAML config file. */
export function loadProxyConfigFile(path: string, env: NodeJS.ProcessEnv = process.env): ProxyConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw configError('--config', `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw configError('--config', `${path} is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  return parseProxyConfig(doc, env);
}

/** The flags of `meshward proxy run` as commander hands them over. */
export interface ProxyFlags {
  config?: string;
  inbound?: string;
  app?: string;
  policy?: string[];
  policySource?: string;
  namespace?: string;
  label?: string[];
  outbound?: string[];
  metricsBind?: string;
  auditFile?: string;
  socket?: string;
  mode?: string;
  tcp?: boolean;
  svidCert?: string;
  svidKey?: string;
  svidBundle?: string;
}

/**
 * The flags-only common case as a config document; with `--config`, flags
 * given explicitly override the file's keys.
 */
export function configFromFlags(flags: ProxyFlags, env: NodeJS.ProcessEnv = process.env): ProxyConfig {
  let doc: Obj = {};
  if (flags.config !== undefined) {
    try {
      doc = (parseYaml(readFileSync(flags.config, 'utf8')) as Obj | null) ?? {};
    } catch (err) {
      throw configError('--config', `cannot read ${flags.config}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message.split('\n')[0]}`);
    }
    if (!isObj(doc)) throw configError('--config', 'expected a YAML mapping');
  }
  if (flags.inbound !== undefined || flags.app !== undefined) {
    const base = isObj(doc.inbound) ? doc.inbound : {};
    if ((flags.inbound ?? base.listen) === undefined) throw configError('--inbound', 'required with --app');
    if ((flags.app ?? base.app) === undefined) throw configError('--app', 'required with --inbound');
    doc.inbound = { ...base, ...(flags.inbound ? { listen: flags.inbound } : {}), ...(flags.app ? { app: flags.app } : {}) };
  }
  if (flags.mode !== undefined || flags.tcp) {
    if (!isObj(doc.inbound)) throw configError('--mode', 'needs --inbound');
    doc.inbound = { ...doc.inbound, ...(flags.mode ? { mode: flags.mode.toUpperCase() } : {}), ...(flags.tcp ? { protocol: 'tcp' } : {}) };
  }
  if (flags.policy && flags.policy.length > 0) doc.policy = flags.policy;
  if (flags.policySource !== undefined) doc.policySource = flags.policySource;
  const workload: Obj = isObj(doc.workload) ? { ...doc.workload } : {};
  if (flags.namespace !== undefined) workload.namespace = flags.namespace;
  if (flags.label && flags.label.length > 0) {
    const l: Obj = isObj(workload.labels) ? { ...workload.labels } : {};
    for (const kv of flags.label) {
      const i = kv.indexOf('=');
      if (i <= 0) throw configError('--label', `expected k=v, got ${JSON.stringify(kv)}`);
      l[kv.slice(0, i)] = kv.slice(i + 1);
    }
    workload.labels = l;
  }
  doc.workload = workload;
  if (flags.outbound && flags.outbound.length > 0) {
    const list = Array.isArray(doc.outbound) ? [...(doc.outbound as unknown[])] : [];
    for (const o of flags.outbound) {
      const parts = o.split('=');
      if (parts.length !== 3) throw configError('--outbound', `expected LISTEN=HOST:PORT=spiffe://td/id, got ${JSON.stringify(o)}`);
      list.push({ listen: parts[0], upstream: parts[1], spiffeId: parts[2] });
    }
    doc.outbound = list;
  }
  if (flags.metricsBind !== undefined) doc.metrics = { bind: flags.metricsBind };
  if (flags.auditFile !== undefined) doc.audit = { ...(isObj(doc.audit) ? doc.audit : {}), file: flags.auditFile };
  const identity: Obj = isObj(doc.identity) ? { ...doc.identity } : {};
  if (flags.socket !== undefined) identity.socket = flags.socket;
  if (flags.svidCert !== undefined || flags.svidKey !== undefined || flags.svidBundle !== undefined) {
    const jwtBundles = isObj(identity.files) ? identity.files.jwtBundles : undefined;
    identity.files = { cert: flags.svidCert, key: flags.svidKey, bundle: flags.svidBundle, ...(jwtBundles === undefined ? {} : { jwtBundles }) };
  }
  doc.identity = identity;
  return parseProxyConfig(doc, env);
}
