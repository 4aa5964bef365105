/**
 * Every configuration key of `meshward server run`, described once: its YAML
 * key, its flag, its `MESHWARD_*` variable, its default and how its value is
 * read. config.ts applies the sources in order (YAML file, then variables,
 * then flags); the CLI registers one flag per row.
 */
import { isAbsolute, resolve } from 'node:path';
import { KEY_TYPES, type KeyType } from '../ca/key-type.js';
import { parseDurationSeconds } from '../duration.js';
import { SpiffeId } from '../spiffe/spiffe-id.js';
import { TrustDomain } from '../spiffe/trust-domain.js';

/** What a key's reader gets: a YAML value (any type) or a string from a variable or flag. */
export type RawValue = unknown;

/** A reader returns the value, or a string saying what was wrong. */
type Reader<T> = (raw: RawValue, fromText: boolean) => T | Problem;

export class Problem {
  constructor(readonly message: string) {}
}

export interface KeySpec<T = unknown> {
  /** Dotted YAML path: `trust_domain`, `rate_limits.signing_per_second`. */
  readonly key: string;
  /** Flag name without dashes: `trust-domain`. */
  readonly flag: string;
  /** Environment variable. */
  readonly env: string;
  readonly description: string;
  /** Shown in help and docs; `undefined`: no default (or one derived from other keys). */
  readonly defaultText?: string;
  readonly read: Reader<T>;
}

const text: Reader<string> = (raw) => (typeof raw === 'string' && raw.length > 0 ? raw : new Problem('must be a non-empty string'));

const duration: Reader<number> = (raw) => {
  if (typeof raw === 'number') return Number.isSafeInteger(raw) && raw > 0 ? raw : new Problem(`${raw} is not a positive whole number of seconds`);
  if (typeof raw !== 'string') return new Problem('must be a duration such as 90s, 5m, 1h or 24h');
  const seconds = parseDurationSeconds(raw);
  return typeof seconds === 'string' ? new Problem(seconds) : seconds;
};

const positiveNumber: Reader<number> = (raw, fromText) => {
  const n = typeof raw === 'number' ? raw : fromText && typeof raw === 'string' && /^\d+(\.\d+)?$/.test(raw.trim()) ? Number(raw) : NaN;
  return Number.isFinite(n) && n > 0 && n <= 1e9 ? n : new Problem(`${JSON.stringify(raw)} is not a positive number`);
};

const positiveInteger: Reader<number> = (raw, fromText) => {
  const n = positiveNumber(raw, fromText);
  return n instanceof Problem || Number.isSafeInteger(n) ? n : new Problem(`${JSON.stringify(raw)} is not a whole number`);
};

const trustDomain: Reader<TrustDomain> = (raw) => {
  if (typeof raw !== 'string') return new Problem('must be a trust domain name such as example.org');
  if (raw.includes(':')) return new Problem(`"${raw}" must be a bare trust domain name such as example.org, not a URI`);
  try {
    return TrustDomain.parse(raw);
  } catch (err) {
    return new Problem((err as Error).message);
  }
};

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

const hostPort: Reader<HostPort> = (raw) => {
  if (typeof raw !== 'string') return new Problem('must be host:port, e.g. 127.0.0.1:8081');
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(raw);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) return new Problem(`"${raw}" is not host:port (e.g. 127.0.0.1:8081, [::1]:8081; port 0 picks a free one)`);
  return { host: m[1] ?? m[2]!, port };
};

const path: Reader<string> = (raw) => (typeof raw === 'string' && raw.length > 0 && !raw.includes('\0') ? raw : new Problem('must be a file path'));

const datastore: Reader<string> = (raw) => {
  if (typeof raw !== 'string') return new Problem('must be "sqlite" or a postgres:// URL');
  if (raw === 'sqlite' || /^postgres(?:ql)?:\/\/./.test(raw)) return raw;
  return new Problem(`must be "sqlite" or a postgres:// URL, got ${raw.startsWith('postgres') ? 'a malformed URL' : JSON.stringify(raw.slice(0, 40))}`);
};

const keyType: Reader<KeyType> = (raw) =>
  typeof raw === 'string' && (KEY_TYPES as readonly string[]).includes(raw) ? (raw as KeyType) : new Problem(`must be one of ${KEY_TYPES.join(', ')}`);

const spiffeIdList: Reader<readonly string[]> = (raw, fromText) => {
  const list = fromText && typeof raw === 'string' ? raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0) : raw;
  if (!Array.isArray(list)) return new Problem('must be a list of SPIFFE IDs');
  const out: string[] = [];
  for (const [i, item] of list.entries()) {
    if (typeof item !== 'string') return new Problem(`item ${i} must be a SPIFFE ID string`);
    try {
      out.push(SpiffeId.parse(item).toString());
    } catch (err) {
      return new Problem(`item ${i}: ${(err as Error).message}`);
    }
  }
  return out;
};

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
const logLevel: Reader<LogLevel> = (raw) =>
  typeof raw === 'string' && (LOG_LEVELS as readonly string[]).includes(raw) ? (raw as LogLevel) : new Problem(`must be one of ${LOG_LEVELS.join(', ')}`);

function spec<T>(key: string, description: string, read: Reader<T>, defaultText?: string): KeySpec<T> {
  const flag = key.replace(/[._]/g, '-');
  return { key, flag, env: `MESHWARD_${key.replace(/\./g, '_').toUpperCase()}`, description, read, ...(defaultText === undefined ? {} : { defaultText }) };
}

/** The scalar keys (every one also a flag and a variable). */
export const CONFIG_KEYS = [
  spec('trust_domain', 'the trust domain this server is the authority of (required), e.g. example.org', trustDomain),
  spec('data_dir', 'directory for the CA, the SQLite datastore and the admin socket (created 0700)', path, './.meshward'),
  spec('datastore', '"sqlite" (DATA/datastore.sqlite3) or a postgres:// URL (several replicas)', datastore, 'sqlite'),
  spec('bind', 'address of the server API (agents, admins with an SVID): HTTPS, TLS 1.3', hostPort, '127.0.0.1:8081'),
  spec('health_bind', 'address of the plain-HTTP health listener (/live, /ready)', hostPort, '127.0.0.1:8082'),
  spec('admin_socket', 'Unix socket of the local admin API (mode 0600)', path, 'DATA/admin.sock'),
  spec('ca_key_type', `key type of the CA (${KEY_TYPES.join(', ')})`, keyType, 'ec-p256'),
  spec('ca_ttl', 'lifetime of each CA certificate and JWT key', duration, '24h'),
  spec('default_x509_svid_ttl', 'X.509-SVID lifetime when an entry gives none (also the agent SVID lifetime)', duration, '1h'),
  spec('default_jwt_svid_ttl', 'JWT-SVID lifetime when an entry gives none', duration, '5m'),
  spec('upstream_cert_file', 'upstream CA certificate chain (PEM): our CA becomes an intermediate under it', path),
  spec('upstream_key_file', 'private key of the upstream CA (PEM, mode 0600)', path),
  spec('admin_ids', 'SPIFFE IDs allowed to call the admin API over mTLS (a list; comma-separated in a flag or variable)', spiffeIdList),
  spec('kek_file', 'file holding the key-encryption key for the CA keys at rest (or MESHWARD_KEK holding the key itself)', path),
  spec('rate_limits.attestation_per_second', 'attestations per second per source IP (burst 2)', positiveNumber, '1'),
  spec('rate_limits.signing_per_second', 'SVIDs signed per second per caller (burst = the rate)', positiveNumber, '500'),
  spec('max_watchers', 'most agents connected to /agent/v1/watch at once', positiveInteger, '10000'),
  spec('log_level', `log level (${LOG_LEVELS.join(', ')})`, logLevel, 'info'),
] as const;

/** Keys only a YAML file can give (structured values). */
export const STRUCTURED_KEYS = ['federation'] as const;

export function resolveAgainst(base: string, p: string): string {
  return isAbsolute(p) ? p : resolve(base, p);
}
