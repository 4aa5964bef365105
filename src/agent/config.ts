/**
 * `meshward agent run` configuration: a YAML file (`--config`), then
 * `MESHWARD_AGENT_*` variables, then flags; a later source wins. Every
 * problem is an AgentConfigError naming the key (the command exits 2).
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parseDurationSeconds } from '../duration.js';
import { TrustDomain } from '../spiffe/trust-domain.js';
import { AgentConfigError } from './agent-error.js';
import { parseSocketAddress } from './workload-api/endpoint.js';

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

export interface AgentConfig {
  readonly serverUrls: readonly string[];
  readonly joinToken: string | undefined;
  readonly trustBundlePath: string | undefined;
  readonly trustDomain: string | undefined;
  readonly socketPath: string;
  readonly dataDir: string;
  readonly healthBind: HostPort | undefined;
  readonly metricsBind: HostPort | undefined;
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  readonly rateLimit: { readonly perSecond: number; readonly burst: number };
  readonly syncIntervalMs: number;
  readonly workloadSizeLimit: number;
  readonly signBatchSize: number;
}

export const DEFAULT_SOCKET = '/tmp/meshward/agent.sock';

/** key, flag, default text, description. */
export const AGENT_CONFIG_KEYS = [
  ['server_urls', 'server', undefined, 'server URL(s), comma-separated: https://host:8081[,https://other:8081]'],
  ['join_token', 'join-token', undefined, 'one-time join token for the first attestation (also MESHWARD_AGENT_JOIN_TOKEN)'],
  ['trust_bundle_path', 'trust-bundle', undefined, "the server's CA certificates (PEM or SPIFFE bundle JSON) to verify the server on first start"],
  ['trust_domain', 'trust-domain', undefined, 'expected trust domain (default: the one the trust bundle vouches for)'],
  ['socket_path', 'socket', DEFAULT_SOCKET, 'Workload API socket: a path or unix:///path'],
  ['data_dir', 'data-dir', './.meshward/agent', 'directory for the agent SVID, key and bundle (0700)'],
  ['health_bind', 'health-bind', '127.0.0.1:8083', 'plain-HTTP /live and /ready ("off" to disable)'],
  ['metrics_bind', 'metrics-bind', '127.0.0.1:9989', 'Prometheus /metrics ("off" to disable)'],
  ['log_level', 'log-level', 'info', 'debug, info, warn, error or silent'],
  ['rate_limit.per_second', 'rate-limit-per-second', '100', 'Workload API calls per second per caller uid'],
  ['rate_limit.burst', 'rate-limit-burst', '200', 'Workload API burst per caller uid'],
  ['sync_interval', 'sync-interval', '5s', 'full sync with the server (the watch stream brings changes sooner)'],
  ['workload_size_limit', 'workload-size-limit', '268435456', 'largest executable hashed for unix:sha256, in bytes'],
  ['sign_batch_size', 'sign-batch-size', '500', 'CSRs per signing request (at most 1000)'],
] as const;

export type AgentConfigKey = (typeof AGENT_CONFIG_KEYS)[number][0];

export function envName(key: string): string {
  return `MESHWARD_AGENT_${key.replace(/[.]/g, '_').toUpperCase()}`;
}

export function loadAgentConfig(options: { configFile?: string; flags?: Partial<Record<AgentConfigKey, string>>; env?: Record<string, string | undefined>; cwd?: string } = {}): AgentConfig {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const raw = new Map<string, { value: unknown; base: string }>();
  if (options.configFile !== undefined) {
    const file = resolve(cwd, options.configFile);
    let doc: unknown;
    try {
      doc = parseYaml(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new AgentConfigError('config', `${file}: ${(err as Error).message}`);
    }
    if (doc !== null && doc !== undefined) {
      if (typeof doc !== 'object' || Array.isArray(doc)) throw new AgentConfigError('config', `${file} must hold a mapping`);
      const flat = flatten(doc as Record<string, unknown>);
      for (const [k, v] of Object.entries(flat)) {
        if (!AGENT_CONFIG_KEYS.some(([key]) => key === k)) throw new AgentConfigError(k, 'unknown key');
        raw.set(k, { value: v, base: dirname(file) });
      }
    }
  }
  for (const [key] of AGENT_CONFIG_KEYS) {
    const v = env[envName(key)];
    if (v !== undefined && v !== '') raw.set(key, { value: v, base: cwd });
  }
  for (const [key] of AGENT_CONFIG_KEYS) {
    const v = options.flags?.[key];
    if (v !== undefined) raw.set(key, { value: v, base: cwd });
  }
  const get = (key: AgentConfigKey): { value: unknown; base: string } | undefined => {
    const v = raw.get(key);
    if (v !== undefined) return v;
    const def = AGENT_CONFIG_KEYS.find(([k]) => k === key)![2];
    return def === undefined ? undefined : { value: def, base: cwd };
  };
  const str = (key: AgentConfigKey): string | undefined => {
    const v = get(key);
    if (v === undefined) return undefined;
    if (typeof v.value !== 'string' && typeof v.value !== 'number') throw new AgentConfigError(key, 'must be a string');
    const s = String(v.value);
    if (s === '') throw new AgentConfigError(key, 'must not be empty');
    return s;
  };
  const pathOf = (key: AgentConfigKey): string | undefined => {
    const v = get(key);
    const s = str(key);
    return s === undefined ? undefined : isAbsolute(s) ? s : resolve(v!.base, s);
  };
  const num = (key: AgentConfigKey, integer: boolean, max = 1e12): number => {
    const s = str(key)!;
    const n = /^\d+(\.\d+)?$/.test(s) ? Number(s) : NaN;
    if (!Number.isFinite(n) || n <= 0 || n > max || (integer && !Number.isSafeInteger(n))) throw new AgentConfigError(key, `"${s}" is not a positive ${integer ? 'whole ' : ''}number${max < 1e12 ? ` up to ${max}` : ''}`);
    return n;
  };

  const urlsRaw = get('server_urls');
  if (urlsRaw === undefined) throw new AgentConfigError('server_urls', 'is required (--server URL[,URL...])');
  const list = Array.isArray(urlsRaw.value) ? urlsRaw.value : String(urlsRaw.value).split(',');
  const serverUrls = list.map((u) => String(u).trim()).filter((u) => u.length > 0);
  if (serverUrls.length === 0) throw new AgentConfigError('server_urls', 'is required (--server URL[,URL...])');
  for (const u of serverUrls) {
    let url: URL;
    try {
      url = new URL(u);
    } catch {
      throw new AgentConfigError('server_urls', `"${u}" is not a URL`);
    }
    if (url.protocol !== 'https:') throw new AgentConfigError('server_urls', `"${u}" must be an https:// URL (the agent only talks to the server over mTLS)`);
    if (url.pathname !== '/' || url.search !== '' || url.hash !== '' || url.username !== '') throw new AgentConfigError('server_urls', `"${u}" must be https://host:port with nothing after it`);
  }

  let trustDomain = str('trust_domain');
  if (trustDomain !== undefined) {
    try {
      trustDomain = TrustDomain.parse(trustDomain).name;
    } catch (err) {
      throw new AgentConfigError('trust_domain', (err as Error).message);
    }
  }
  const socket = parseSocketAddress(str('socket_path')!);
  if (!isAbsolute(socket)) throw new AgentConfigError('socket_path', `${socket} must be an absolute path`);
  const level = str('log_level')!;
  if (!['debug', 'info', 'warn', 'error', 'silent'].includes(level)) throw new AgentConfigError('log_level', `"${level}" is not one of debug, info, warn, error, silent`);
  const sync = parseDurationSeconds(str('sync_interval')!);
  if (typeof sync === 'string') throw new AgentConfigError('sync_interval', sync);
  const joinToken = str('join_token');
  if (joinToken !== undefined && (joinToken.length > 512 || /\s/.test(joinToken))) throw new AgentConfigError('join_token', 'is not a join token (at most 512 characters, no spaces)');

  return {
    serverUrls,
    joinToken,
    trustBundlePath: pathOf('trust_bundle_path'),
    trustDomain,
    socketPath: socket,
    dataDir: pathOf('data_dir')!,
    healthBind: hostPort('health_bind', str('health_bind')!),
    metricsBind: hostPort('metrics_bind', str('metrics_bind')!),
    logLevel: level as AgentConfig['logLevel'],
    rateLimit: { perSecond: num('rate_limit.per_second', false), burst: num('rate_limit.burst', true) },
    syncIntervalMs: sync * 1000,
    workloadSizeLimit: num('workload_size_limit', true),
    signBatchSize: num('sign_batch_size', true, 1000),
  };
}

function hostPort(key: string, value: string): HostPort | undefined {
  if (value === 'off') return undefined;
  const m = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(value);
  const port = m ? Number(m[2]) : NaN;
  if (m === null || port > 65535) throw new AgentConfigError(key, `"${value}" is not host:port (or "off")`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}

function flatten(obj: Record<string, unknown>, prefix = ''): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix === '' ? k : `${prefix}.${k}`;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) Object.assign(out, flatten(v as Record<string, unknown>, key));
    else out[key] = v;
  }
  return out;
}
