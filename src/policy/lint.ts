import { OPERATION_FIELDS, SOURCE_FIELDS, ATTRIBUTES, negated, parseConditionKey } from './attributes.js';
import type { PolicyWarning } from './issue-collector.js';
import { loadSources, type LoadOptions, type PolicySource } from './load-policies.js';
import type { PolicyIssue } from './policy-error.js';
import { normalizePath } from './normalize-path.js';
import { isPathTemplate } from './path-template.js';
import type { AuthorizationPolicy, Rule } from './types.js';

export interface LintResult {
  readonly issues: readonly PolicyIssue[];
  readonly warnings: readonly PolicyWarning[];
}

/**
 * Validation errors plus warnings for legal policies that likely do not do
 * what their author meant: Istio's own warnings (HTTP-only fields in a DENY
 * that also sees TCP, an empty selector) and the pitfalls of AUTHZ.md §8.
 */
export function lintSources(sources: readonly PolicySource[], options: LoadOptions = {}): LintResult {
  const loaded = loadSources(sources, options);
  const warnings = [...loaded.warnings];
  loaded.policies.forEach((policy, i) => {
    const where = loaded.origins[i]!;
    const warn = (path: string, message: string) => warnings.push({ ...where, path, message });
    lintPolicy(policy, warn);
  });
  return { issues: loaded.issues, warnings };
}

type Warn = (path: string, message: string) => void;

function lintPolicy(policy: AuthorizationPolicy, warn: Warn): void {
  const action = policy.spec.action ?? 'ALLOW';
  if (action === 'ALLOW' && (policy.spec.rules ?? []).length === 0) {
    warn('spec.rules', 'ALLOW policy without rules: it denies every request to the selected workloads (allow-nothing)');
  }
  (policy.spec.rules ?? []).forEach((rule, r) => {
    const at = `spec.rules[${r}]`;
    if (action === 'DENY' || action === 'AUDIT') lintTcpWidening(rule, at, action, warn);
    if (action === 'ALLOW') {
      rule.to?.forEach((t, i) => {
        for (const f of ['notPaths', 'notHosts', 'notMethods'] as const) {
          if (t.operation[f]) warn(`${at}.to[${i}].operation.${f}`, `ALLOW with ${f}: prefer ALLOW with positive matches (anything not listed, including odd encodings, is allowed)`);
        }
      });
    }
    rule.from?.forEach((f, i) => {
      for (const name of ['principals', 'notPrincipals'] as const) {
        f.source[name]?.forEach((v, j) => {
          if (v.startsWith('spiffe://')) warn(`${at}.from[${i}].source.${name}[${j}]`, `"${v}" never matches: write principals without "spiffe://"`);
        });
      }
      for (const name of ['requestPrincipals', 'notRequestPrincipals'] as const) {
        f.source[name]?.forEach((v, j) => {
          const slash = v.lastIndexOf('/');
          if (v.includes('*') && slash !== -1 && v.slice(0, slash).endsWith(':/')) {
            warn(`${at}.from[${i}].source.${name}[${j}]`, `"${v}" is split at its last "/" into issuer "${v.slice(0, slash)}" and subject "${v.slice(slash + 1)}"; a wildcard cannot span issuer and subject`);
          }
        });
      }
    });
    rule.to?.forEach((t, i) => {
      for (const name of ['paths', 'notPaths'] as const) t.operation[name]?.forEach((v, j) => lintPath(v, `${at}.to[${i}].operation.${name}[${j}]`, warn));
      for (const name of ['methods', 'notMethods'] as const) {
        t.operation[name]?.forEach((v, j) => {
          if (/[a-z]/.test(v)) warn(`${at}.to[${i}].operation.${name}[${j}]`, `method "${v}" is not upper case; methods are case-sensitive and lower-case request methods are refused`);
        });
      }
    });
    for (const [key, path] of innerStars(rule, at)) warn(path, `"${key}" has a "*" in the middle; it is matched literally`);
  });
}

function lintTcpWidening(rule: Rule, at: string, action: string, warn: Warn): void {
  const http: string[] = [];
  let tcp = 0;
  const count = (field: string, isHttp: boolean) => (isHttp ? http.push(field) : tcp++);
  rule.from?.forEach((f) => {
    for (const [field, attr] of Object.entries(SOURCE_FIELDS)) for (const n of [field, negated(field)]) if (f.source[n as keyof typeof f.source]) count(n, ATTRIBUTES[attr].httpOnly);
  });
  rule.to?.forEach((t) => {
    for (const [field, attr] of Object.entries(OPERATION_FIELDS)) for (const n of [field, negated(field)]) if (t.operation[n as keyof typeof t.operation]) count(n, ATTRIBUTES[attr].httpOnly);
  });
  rule.when?.forEach((c) => {
    const key = parseConditionKey(c.key);
    if (typeof key !== 'string') count(c.key, ATTRIBUTES[key.attribute].httpOnly);
  });
  if (http.length === 0) return;
  const hasPorts = rule.to?.some((t) => t.operation.ports) ?? false;
  if (tcp === 0) {
    warn(at, `${action} rule uses only HTTP attributes (${http.join(', ')}): on TCP traffic it matches every connection; add ports to limit it`);
  } else if (!hasPorts) {
    warn(at, `${action} rule uses HTTP attributes (${http.join(', ')}): on TCP traffic they are ignored and the rule matches more; consider setting ports`);
  }
}

function lintPath(v: string, path: string, warn: Warn): void {
  if (isPathTemplate(v)) return;
  const fixed = v === '*' ? null : v.startsWith('*') ? null : v.endsWith('*') ? v.slice(0, -1) : v;
  if (!v.startsWith('/') && !v.startsWith('*')) {
    warn(path, `path "${v}" does not start with "/" and never matches`);
    return;
  }
  if (fixed === null || fixed === '') return;
  const n = normalizePath(fixed, { escapedSlashes: 'reject', pathParameters: 'reject' });
  if (!n.ok || n.path !== fixed) {
    warn(path, `path "${v}" is not in normalized form${n.ok ? ` (requests are matched as "${n.path}")` : ` (${n.reason})`}; it never matches`);
  }
}

function* innerStars(rule: Rule, at: string): Generator<[string, string]> {
  const lists: Array<[string[] | undefined, string]> = [];
  rule.from?.forEach((f, i) => {
    for (const [k, v] of Object.entries(f.source)) lists.push([v as string[], `${at}.from[${i}].source.${k}`]);
  });
  rule.to?.forEach((t, i) => {
    for (const [k, v] of Object.entries(t.operation)) lists.push([v as string[], `${at}.to[${i}].operation.${k}`]);
  });
  rule.when?.forEach((c, i) => lists.push([c.values, `${at}.when[${i}].values`], [c.notValues, `${at}.when[${i}].notValues`]));
  for (const [list, path] of lists) {
    for (const [j, v] of (list ?? []).entries()) {
      if (isPathTemplate(v) || v === '*') continue;
      if (v.slice(1, -1).includes('*')) yield [v, `${path}[${j}]`];
    }
  }
}

