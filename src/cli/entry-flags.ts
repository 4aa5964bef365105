/** Turning `entry` command flags (and `-data` files) into API entries; every problem names its flag. */
import { readInputFile, durationFlag, spiffeIdFlag } from './io.js';
import { UsageError } from './usage-error.js';

export interface ApiSelector {
  type: string;
  value: string;
}

export interface EntryFlags {
  spiffeId?: string;
  parentId?: string;
  node?: boolean;
  selector?: string[];
  x509SvidTtl?: string;
  jwtSvidTtl?: string;
  dns?: string[];
  admin?: boolean;
  label?: string[];
  federatesWith?: string[];
  hint?: string;
  entryExpiry?: string;
  entryId?: string;
}

export const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

export function selectorFlag(text: string, flag = '--selector'): ApiSelector {
  const colon = text.indexOf(':');
  if (colon <= 0 || colon === text.length - 1) throw new UsageError(`${flag}: "${text}" is not type:value (e.g. unix:uid:1000)`);
  return { type: text.slice(0, colon), value: text.slice(colon + 1) };
}

function labelFlag(text: string): [string, string] {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new UsageError(`--label: "${text}" is not key=value`);
  return [text.slice(0, eq), text.slice(eq + 1)];
}

/** The API body fields a create or update sets from flags (only those given). */
export function entryFieldsFromFlags(flags: EntryFlags, trustDomainOfParent?: string): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  if (flags.spiffeId !== undefined) fields.spiffeId = spiffeIdFlag(flags.spiffeId, '--spiffe-id').toString();
  if (flags.node) {
    if (flags.parentId !== undefined) throw new UsageError('--node and --parent-id exclude each other');
    const td = trustDomainOfParent ?? (fields.spiffeId ? spiffeIdFlag(String(fields.spiffeId), '--spiffe-id').trustDomain.name : undefined);
    if (!td) throw new UsageError('--node needs --spiffe-id');
    fields.parentId = `spiffe://${td}/meshward/server`;
  } else if (flags.parentId !== undefined) {
    fields.parentId = spiffeIdFlag(flags.parentId, '--parent-id').toString();
  }
  if (flags.selector !== undefined) fields.selectors = flags.selector.map((s) => selectorFlag(s));
  if (flags.x509SvidTtl !== undefined) fields.x509SvidTtl = durationFlag(flags.x509SvidTtl, '--x509-svid-ttl');
  if (flags.jwtSvidTtl !== undefined) fields.jwtSvidTtl = durationFlag(flags.jwtSvidTtl, '--jwt-svid-ttl');
  if (flags.dns !== undefined) fields.dnsNames = flags.dns;
  if (flags.admin !== undefined) fields.admin = flags.admin;
  if (flags.label !== undefined) fields.labels = Object.fromEntries(flags.label.map(labelFlag));
  if (flags.federatesWith !== undefined) fields.federatesWith = flags.federatesWith;
  if (flags.hint !== undefined) fields.hint = flags.hint;
  if (flags.entryExpiry !== undefined) {
    if (!/^\d{1,12}$/.test(flags.entryExpiry)) throw new UsageError(`--entry-expiry: "${flags.entryExpiry}" is not epoch seconds`);
    fields.expiresAt = Number(flags.entryExpiry);
  }
  if (flags.entryId !== undefined) fields.id = flags.entryId;
  return fields;
}

/** snake_case keys of spire-server's `-data` files, mapped to ours. */
const SPIRE_KEYS: Record<string, string> = {
  spiffe_id: 'spiffeId',
  parent_id: 'parentId',
  x509_svid_ttl: 'x509SvidTtl',
  jwt_svid_ttl: 'jwtSvidTtl',
  dns_names: 'dnsNames',
  federates_with: 'federatesWith',
  expires_at: 'expiresAt',
  entry_id: 'id',
};

/** Reads `{"entries": [...]}` (our camelCase or SPIRE's snake_case keys). */
export function readEntriesFile(path: string): Array<Record<string, unknown>> {
  const text = readInputFile(path, '--data').toString('utf8');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new UsageError(`--data ${path}: not valid JSON`);
  }
  const entries = (doc as { entries?: unknown })?.entries;
  if (!Array.isArray(entries)) throw new UsageError(`--data ${path}: expected {"entries": [...]}`);
  return entries.map((entry, index) => {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new UsageError(`--data ${path}: entries[${index}] is not an object`);
    return Object.fromEntries(Object.entries(entry).map(([k, v]) => [SPIRE_KEYS[k] ?? k, v]));
  });
}
