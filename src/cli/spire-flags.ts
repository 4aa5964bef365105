/**
 * spire-server's single-dash flags (`-spiffeID`, `-parentID`, `-selector`, …)
 * mapped to our long options, so commands copied from SPIRE docs work as is.
 * The table is explicit: a generic camelCase→kebab rule cannot get
 * `x509SVIDTTL` right, and guessing at flag names is how parsers go wrong.
 */
const ALIASES: Record<string, string> = {
  spiffeID: 'spiffe-id',
  parentID: 'parent-id',
  entryID: 'entry-id',
  selector: 'selector',
  x509SVIDTTL: 'x509-svid-ttl',
  jwtSVIDTTL: 'jwt-svid-ttl',
  dns: 'dns',
  admin: 'admin',
  node: 'node',
  label: 'label',
  data: 'data',
  federatesWith: 'federates-with',
  hint: 'hint',
  entryExpiry: 'entry-expiry',
  ttl: 'ttl',
  audience: 'audience',
  output: 'output',
  format: 'format',
  id: 'id',
  path: 'path',
  reason: 'reason',
  socketPath: 'admin-socket',
  shallow: 'shallow',
  write: 'out',
};

/** Rewrites `-spiffeID x` and `-spiffeID=x` to `--spiffe-id x`; everything else is left alone. */
export function normalizeSpireFlags(argv: readonly string[]): string[] {
  const out: string[] = [];
  let afterDoubleDash = false;
  for (const arg of argv) {
    if (afterDoubleDash || arg === '--') {
      afterDoubleDash = true;
      out.push(arg);
      continue;
    }
    const match = /^-([A-Za-z][A-Za-z0-9]+)(=.*)?$/.exec(arg);
    const alias = match ? ALIASES[match[1]!] : undefined;
    out.push(alias ? `--${alias}${match![2] ?? ''}` : arg);
  }
  return out;
}
