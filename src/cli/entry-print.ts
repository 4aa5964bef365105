/** The pretty form of entries, shaped like spire-server's. */
interface PrintableEntry {
  id: string;
  spiffeId: string;
  parentId: string;
  revision: number;
  x509SvidTtl: number;
  jwtSvidTtl: number;
  selectors: Array<{ type: string; value: string }>;
  dnsNames?: string[];
  federatesWith?: string[];
  admin?: boolean;
  hint?: string;
  expiresAt?: number | null;
  labels?: Record<string, string>;
}

export function formatEntry(entry: PrintableEntry): string {
  const lines = [
    ['Entry ID', entry.id],
    ['SPIFFE ID', entry.spiffeId],
    ['Parent ID', entry.parentId],
    ['Revision', String(entry.revision)],
    ['X509-SVID TTL', entry.x509SvidTtl ? String(entry.x509SvidTtl) : 'default'],
    ['JWT-SVID TTL', entry.jwtSvidTtl ? String(entry.jwtSvidTtl) : 'default'],
    ...entry.selectors.map((s) => ['Selector', `${s.type}:${s.value}`]),
    ...(entry.dnsNames ?? []).map((d) => ['DNS name', d]),
    ...(entry.federatesWith ?? []).map((td) => ['FederatesWith', td]),
    ...Object.entries(entry.labels ?? {}).map(([k, v]) => ['Label', `${k}=${v}`]),
  ];
  if (entry.admin) lines.push(['Admin', 'true']);
  if (entry.hint) lines.push(['Hint', entry.hint]);
  if (entry.expiresAt) lines.push(['Entry Expiry', new Date(entry.expiresAt * 1000).toISOString()]);
  return lines.map(([k, v]) => `${k!.padEnd(16)} : ${v}`).join('\n') + '\n';
}
