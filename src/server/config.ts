/**
 * The server's configuration: a YAML file (`--config`), then `MESHWARD_*`
 * variables, then flags; a later source wins. Every problem is a
 * ConfigError naming the key (the command exits 2). Relative paths in the
 * file are taken from the file's directory; in flags and variables, from the
 * working directory.
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseDocument } from 'yaml';
import type { KeyType } from '../ca/key-type.js';
import { parseDurationSeconds } from '../duration.js';
import { SpiffeId } from '../spiffe/spiffe-id.js';
import { TrustDomain } from '../spiffe/trust-domain.js';
import { CONFIG_KEYS, Problem, STRUCTURED_KEYS, resolveAgainst, type HostPort, type LogLevel } from './config-schema.js';
import type { BundleEndpointConfig, FederationConfig, FederationRelationship } from './federation/config.js';
import { ConfigError } from './server-error.js';

export interface ServerConfig {
  readonly trustDomain: TrustDomain;
  /** Absolute. */
  readonly dataDir: string;
  /** `sqlite` or a postgres:// URL (never logged as is: see `datastoreLabel`). */
  readonly datastore: string;
  readonly bind: HostPort;
  readonly healthBind: HostPort;
  /** Absolute path of the admin socket. */
  readonly adminSocket: string;
  readonly caKeyType: KeyType;
  readonly caTtlSeconds: number;
  readonly defaultX509SvidTtlSeconds: number;
  readonly defaultJwtSvidTtlSeconds: number;
  readonly upstreamCertFile: string | undefined;
  readonly upstreamKeyFile: string | undefined;
  readonly adminIds: readonly string[];
  /** The key-encryption key (from kek_file or MESHWARD_KEK); undefined: keys stored as plain PEM. */
  readonly kek: Buffer | undefined;
  readonly federation: FederationConfig;
  readonly rateLimits: { readonly attestationPerSecond: number; readonly attestationBurst: number; readonly signingPerSecond: number };
  readonly maxWatchers: number;
  readonly logLevel: LogLevel;
}

export interface LoadConfigOptions {
  /** YAML file; also `MESHWARD_CONFIG`. */
  readonly configFile?: string;
  /** Default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Flag values by configuration key (`trust_domain`), as strings. */
  readonly flags?: Readonly<Record<string, string | undefined>>;
  /** Base for relative paths from flags and variables; default `process.cwd()`. */
  readonly cwd?: string;
}

/** Smallest key-encryption key accepted, in bytes. */
export const MIN_KEK_BYTES = 16;
const MAX_CONFIG_BYTES = 1024 * 1024;

interface Sourced {
  value: unknown;
  fromText: boolean;
  base: string;
}

export function loadServerConfig(options: LoadConfigOptions = {}): ServerConfig {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const values = new Map<string, Sourced>();
  let federationRaw: unknown;
  let fileBase = cwd;

  const configFile = options.configFile ?? nonEmpty(env.MESHWARD_CONFIG);
  if (configFile !== undefined) {
    const file = resolveAgainst(cwd, configFile);
    fileBase = dirname(file);
    const doc = readYaml(file);
    for (const [key, value] of Object.entries(flatten(doc, file))) {
      if (key === 'federation') federationRaw = value;
      else values.set(key, { value, fromText: false, base: fileBase });
    }
  }
  for (const spec of CONFIG_KEYS) {
    const v = nonEmpty(env[spec.env]);
    if (v !== undefined) values.set(spec.key, { value: v, fromText: true, base: cwd });
  }
  for (const spec of CONFIG_KEYS) {
    const v = options.flags?.[spec.key];
    if (v !== undefined) values.set(spec.key, { value: v, fromText: true, base: cwd });
  }

  const read = <T>(key: string): { value: T; base: string } | undefined => {
    const spec = CONFIG_KEYS.find((s) => s.key === key)!;
    const sourced = values.get(key);
    const raw = sourced ?? (spec.defaultText !== undefined && !spec.defaultText.startsWith('DATA/') ? { value: spec.defaultText, fromText: true, base: cwd } : undefined);
    if (raw === undefined) return undefined;
    const result = spec.read(raw.value, raw.fromText);
    if (result instanceof Problem) throw new ConfigError('ERR_CONFIG_INVALID', key, result.message);
    return { value: result as T, base: raw.base };
  };
  const pathOf = (key: string): string | undefined => {
    const r = read<string>(key);
    return r === undefined ? undefined : resolveAgainst(r.base, r.value);
  };

  const td = read<TrustDomain>('trust_domain');
  if (td === undefined) throw new ConfigError('ERR_CONFIG_INVALID', 'trust_domain', 'is required (--trust-domain, MESHWARD_TRUST_DOMAIN or trust_domain in the file)');
  const dataDir = pathOf('data_dir')!;
  const adminSocket = pathOf('admin_socket') ?? join(dataDir, 'admin.sock');
  if (Buffer.byteLength(adminSocket) > 100) throw new ConfigError('ERR_CONFIG_INVALID', 'admin_socket', `${adminSocket} is too long for a Unix socket path (at most 100 bytes); choose a shorter data_dir or admin_socket`);
  const upstreamCertFile = pathOf('upstream_cert_file');
  const upstreamKeyFile = pathOf('upstream_key_file');
  if ((upstreamCertFile === undefined) !== (upstreamKeyFile === undefined)) {
    throw new ConfigError('ERR_CONFIG_INVALID', upstreamCertFile === undefined ? 'upstream_cert_file' : 'upstream_key_file', 'upstream_cert_file and upstream_key_file go together');
  }
  const caTtlSeconds = read<number>('ca_ttl')!.value;
  const x509Ttl = read<number>('default_x509_svid_ttl')!.value;
  const jwtTtl = read<number>('default_jwt_svid_ttl')!.value;
  if (caTtlSeconds < 60) throw new ConfigError('ERR_CONFIG_INVALID', 'ca_ttl', 'must be at least 60s');
  const bind = read<HostPort>('bind')!.value;
  const healthBind = read<HostPort>('health_bind')!.value;
  const attestation = read<number>('rate_limits.attestation_per_second')!.value;

  return {
    trustDomain: td.value,
    dataDir,
    datastore: read<string>('datastore')!.value,
    bind,
    healthBind,
    adminSocket,
    caKeyType: read<KeyType>('ca_key_type')!.value,
    caTtlSeconds,
    defaultX509SvidTtlSeconds: x509Ttl,
    defaultJwtSvidTtlSeconds: jwtTtl,
    upstreamCertFile,
    upstreamKeyFile,
    adminIds: read<readonly string[]>('admin_ids')?.value ?? [],
    kek: readKek(pathOf('kek_file'), nonEmpty(env.MESHWARD_KEK)),
    federation: readFederation(federationRaw, fileBase),
    rateLimits: { attestationPerSecond: attestation, attestationBurst: Math.max(2, Math.ceil(attestation)), signingPerSecond: read<number>('rate_limits.signing_per_second')!.value },
    maxWatchers: read<number>('max_watchers')!.value,
    logLevel: read<LogLevel>('log_level')!.value,
  };
}

/** The datastore as it may be shown: a URL without its password. */
export function datastoreLabel(datastore: string): string {
  if (datastore === 'sqlite') return 'sqlite';
  try {
    const url = new URL(datastore);
    if (url.password !== '') url.password = '***';
    return url.toString();
  } catch {
    return 'postgres://(unparsable URL)';
  }
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v;
}

function readYaml(file: string): Record<string, unknown> {
  let textContent: string;
  try {
    const st = statSync(file);
    if (!st.isFile()) throw new ConfigError('ERR_CONFIG_FILE', 'config', `${file} is not a regular file`);
    if (st.size > MAX_CONFIG_BYTES) throw new ConfigError('ERR_CONFIG_FILE', 'config', `${file} is larger than ${MAX_CONFIG_BYTES} bytes`);
    textContent = readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError('ERR_CONFIG_FILE', 'config', `cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'I/O error'})`);
  }
  const doc = parseDocument(textContent, { uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const line = e.linePos?.[0]?.line;
    throw new ConfigError('ERR_CONFIG_FILE', 'config', `${file} is not valid YAML${line === undefined ? '' : ` (line ${line})`}: ${e.message.split('\n')[0]}`);
  }
  const value: unknown = doc.toJS({ maxAliasCount: 100 });
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new ConfigError('ERR_CONFIG_FILE', 'config', `${file} must hold a YAML mapping of configuration keys`);
  return value as Record<string, unknown>;
}

/** `{ rate_limits: { signing_per_second: 5 } }` → `{ 'rate_limits.signing_per_second': 5 }`; unknown keys refused. */
function flatten(doc: Record<string, unknown>, file: string): Record<string, unknown> {
  const known = new Set<string>(CONFIG_KEYS.map((s) => s.key));
  const groups = new Set([...known].filter((k) => k.includes('.')).map((k) => k.split('.')[0]!));
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(doc)) {
    if ((STRUCTURED_KEYS as readonly string[]).includes(key)) {
      out[key] = value;
    } else if (groups.has(key)) {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ConfigError('ERR_CONFIG_INVALID', key, 'must be a mapping');
      for (const [sub, v] of Object.entries(value)) {
        const full = `${key}.${sub}`;
        if (!known.has(full)) throw new ConfigError('ERR_CONFIG_UNKNOWN_KEY', full, `unknown configuration key in ${file}`);
        out[full] = v;
      }
    } else if (known.has(key)) {
      out[key] = value;
    } else {
      throw new ConfigError('ERR_CONFIG_UNKNOWN_KEY', key, `unknown configuration key in ${file}${key === 'kek' ? ' (a key-encryption key never goes in the file: use kek_file or MESHWARD_KEK)' : ''}`);
    }
  }
  return out;
}

function readKek(file: string | undefined, fromEnv: string | undefined): Buffer | undefined {
  if (file !== undefined && fromEnv !== undefined) throw new ConfigError('ERR_CONFIG_INVALID', 'kek_file', 'give either kek_file or MESHWARD_KEK, not both');
  let kek: Buffer | undefined;
  if (fromEnv !== undefined) kek = Buffer.from(fromEnv, 'utf8');
  if (file !== undefined) {
    try {
      const st = statSync(file);
      if (!st.isFile() || st.size > 4096) throw new ConfigError('ERR_CONFIG_INVALID', 'kek_file', `${file} is not a small regular file`);
      if ((st.mode & 0o077) !== 0) throw new ConfigError('ERR_CONFIG_INVALID', 'kek_file', `${file} is readable by group or others (mode ${(st.mode & 0o777).toString(8)}); run "chmod 600 ${file}"`);
      kek = Buffer.from(readFileSync(file, 'utf8').replace(/\r?\n$/, ''), 'utf8');
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      throw new ConfigError('ERR_CONFIG_INVALID', 'kek_file', `cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'I/O error'})`);
    }
  }
  if (kek !== undefined && kek.length < MIN_KEK_BYTES) {
    throw new ConfigError('ERR_CONFIG_INVALID', file !== undefined ? 'kek_file' : 'MESHWARD_KEK', `the key-encryption key must be at least ${MIN_KEK_BYTES} bytes`);
  }
  return kek;
}

// ---- federation (YAML only) ----

function readFederation(raw: unknown, base: string): FederationConfig {
  if (raw === undefined || raw === null) return {};
  const root = mapping(raw, 'federation', ['bundle_endpoint', 'federates_with']);
  const out: { bundleEndpoint?: BundleEndpointConfig; federatesWith?: FederationRelationship[] } = {};
  if (root.bundle_endpoint !== undefined && root.bundle_endpoint !== null) {
    const k = 'federation.bundle_endpoint';
    const be = mapping(root.bundle_endpoint, k, ['address', 'port', 'profile', 'cert_file', 'key_file', 'refresh_hint']);
    const profile = profileOf(be.profile, `${k}.profile`);
    if (!Number.isSafeInteger(be.port) || (be.port as number) < 0 || (be.port as number) > 65535) throw new ConfigError('ERR_CONFIG_INVALID', `${k}.port`, 'must be a port number (0-65535)');
    const endpoint: Record<string, unknown> = { port: be.port, profile };
    if (be.address !== undefined) endpoint.address = str(be.address, `${k}.address`);
    if (be.cert_file !== undefined) endpoint.certFile = resolveAgainst(base, str(be.cert_file, `${k}.cert_file`));
    if (be.key_file !== undefined) endpoint.keyFile = resolveAgainst(base, str(be.key_file, `${k}.key_file`));
    if (profile === 'https_web' && (endpoint.certFile === undefined || endpoint.keyFile === undefined)) {
      throw new ConfigError('ERR_CONFIG_INVALID', `${k}.cert_file`, 'the https_web profile needs cert_file and key_file');
    }
    if (be.refresh_hint !== undefined) {
      const s = typeof be.refresh_hint === 'number' ? be.refresh_hint : parseDurationSeconds(String(be.refresh_hint));
      if (typeof s === 'string' || !Number.isSafeInteger(s) || s <= 0) throw new ConfigError('ERR_CONFIG_INVALID', `${k}.refresh_hint`, 'must be a duration such as 5m');
      endpoint.refreshHint = s;
    }
    out.bundleEndpoint = endpoint as unknown as BundleEndpointConfig;
  }
  if (root.federates_with !== undefined && root.federates_with !== null) {
    if (!Array.isArray(root.federates_with)) throw new ConfigError('ERR_CONFIG_INVALID', 'federation.federates_with', 'must be a list');
    out.federatesWith = root.federates_with.map((item, i) => {
      const k = `federation.federates_with[${i}]`;
      const r = mapping(item, k, ['trust_domain', 'bundle_endpoint_url', 'profile', 'endpoint_spiffe_id', 'initial_bundle_file', 'ca_file']);
      const tdName = str(r.trust_domain, `${k}.trust_domain`);
      try {
        TrustDomain.parse(tdName);
      } catch (err) {
        throw new ConfigError('ERR_CONFIG_INVALID', `${k}.trust_domain`, (err as Error).message);
      }
      const url = str(r.bundle_endpoint_url, `${k}.bundle_endpoint_url`);
      if (!/^https:\/\/./.test(url)) throw new ConfigError('ERR_CONFIG_INVALID', `${k}.bundle_endpoint_url`, 'must be an https:// URL');
      const profile = profileOf(r.profile, `${k}.profile`);
      const rel: Record<string, unknown> = { trustDomain: tdName, bundleEndpointUrl: url, profile };
      if (r.endpoint_spiffe_id !== undefined) {
        const id = str(r.endpoint_spiffe_id, `${k}.endpoint_spiffe_id`);
        try {
          rel.endpointSpiffeId = SpiffeId.parse(id).toString();
        } catch (err) {
          throw new ConfigError('ERR_CONFIG_INVALID', `${k}.endpoint_spiffe_id`, (err as Error).message);
        }
      } else if (profile === 'https_spiffe') {
        throw new ConfigError('ERR_CONFIG_INVALID', `${k}.endpoint_spiffe_id`, 'the https_spiffe profile needs the endpoint SPIFFE ID');
      }
      if (r.initial_bundle_file !== undefined) rel.initialBundleFile = resolveAgainst(base, str(r.initial_bundle_file, `${k}.initial_bundle_file`));
      if (r.ca_file !== undefined) rel.caFile = resolveAgainst(base, str(r.ca_file, `${k}.ca_file`));
      return rel as unknown as FederationRelationship;
    });
  }
  return out;
}

function mapping(raw: unknown, key: string, allowed: readonly string[]): Record<string, unknown> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError('ERR_CONFIG_INVALID', key, 'must be a mapping');
  for (const k of Object.keys(raw)) if (!allowed.includes(k)) throw new ConfigError('ERR_CONFIG_UNKNOWN_KEY', `${key}.${k}`, 'unknown configuration key');
  return raw as Record<string, unknown>;
}

function str(v: unknown, key: string): string {
  if (typeof v !== 'string' || v.length === 0) throw new ConfigError('ERR_CONFIG_INVALID', key, 'must be a non-empty string');
  return v;
}

function profileOf(v: unknown, key: string): 'https_web' | 'https_spiffe' {
  if (v !== 'https_web' && v !== 'https_spiffe') throw new ConfigError('ERR_CONFIG_INVALID', key, 'must be https_web or https_spiffe');
  return v;
}
