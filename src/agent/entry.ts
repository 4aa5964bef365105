/** A registration entry as the agent receives it from `GET /agent/v1/entries` (docs/server-api.md). */
import type { Selector } from './attestors/workload-attestor.js';

export interface AgentEntry {
  readonly id: string;
  readonly spiffeId: string;
  readonly parentId: string;
  readonly selectors: readonly Selector[];
  readonly x509SvidTtl: number;
  readonly jwtSvidTtl: number;
  readonly dnsNames: readonly string[];
  readonly federatesWith: readonly string[];
  readonly hint: string;
  readonly revision: number;
  readonly expiresAt: number | null;
}

/** Checks the shape of one entry from the server; throws TypeError on anything unexpected. */
export function readEntry(raw: unknown): AgentEntry {
  const e = raw as Record<string, unknown>;
  const str = (k: string): string => {
    if (typeof e?.[k] !== 'string') throw new TypeError(`entry.${k} must be a string`);
    return e[k] as string;
  };
  const num = (k: string): number => {
    const v = e?.[k];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new TypeError(`entry.${k} must be a number`);
    return v;
  };
  const strings = (k: string): string[] => {
    const v = e?.[k] ?? [];
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new TypeError(`entry.${k} must be a list of strings`);
    return v as string[];
  };
  const sels = e?.selectors;
  if (!Array.isArray(sels) || !sels.every((s) => typeof s?.type === 'string' && typeof s?.value === 'string')) throw new TypeError('entry.selectors must be a list of {type, value}');
  return Object.freeze({
    id: str('id'),
    spiffeId: str('spiffeId'),
    parentId: str('parentId'),
    selectors: Object.freeze(sels.map((s: Selector) => Object.freeze({ type: s.type, value: s.value }))),
    x509SvidTtl: num('x509SvidTtl'),
    jwtSvidTtl: num('jwtSvidTtl'),
    dnsNames: strings('dnsNames'),
    federatesWith: strings('federatesWith').map((td) => td.replace(/^spiffe:\/\//, '')),
    hint: typeof e.hint === 'string' ? e.hint : '',
    revision: num('revision'),
    expiresAt: typeof e.expiresAt === 'number' ? e.expiresAt : null,
  });
}
