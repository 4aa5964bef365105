import { parseCidr } from './ip-address.js';
import { pathTemplateProblem, isPathTemplate } from './path-template.js';
import type { AttributeId } from './attributes.js';
import type { IssueCollector } from './issue-collector.js';

/** Checks for plain values shared by rule fields and `when` conditions, per attribute (Istio's ValidateAuthorizationPolicy). */

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function checkKnownKeys(obj: Record<string, unknown>, allowed: ReadonlySet<string>, path: string, out: IssueCollector): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.has(key)) out.error('ERR_POLICY_UNKNOWN_FIELD', join(path, key), `unknown field "${key}"`);
  }
}

export function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path === '' ? key : `${path}.${key}`;
}

/** A list of non-empty strings; returns it, or `null` after reporting why not. */
export function stringList(value: unknown, path: string, out: IssueCollector): string[] | null {
  if (!Array.isArray(value)) {
    out.error('ERR_POLICY_INVALID_FIELD', path, 'must be a list of strings');
    return null;
  }
  let ok = true;
  value.forEach((v, i) => {
    if (typeof v !== 'string') {
      out.error('ERR_POLICY_INVALID_FIELD', join(path, i), `must be a string, got ${describe(v)}`);
      ok = false;
    } else if (v === '') {
      out.error('ERR_POLICY_EMPTY_VALUE', join(path, i), 'empty value not allowed');
      ok = false;
    }
  });
  return ok ? (value as string[]) : null;
}

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'object' ? 'an object' : `${typeof v} ${JSON.stringify(v)}`;
}

const PORT = /^[0-9]+$/;

/** Value checks for one attribute: IPs, ports, service accounts, trust domains, path templates. */
export function checkValues(attribute: AttributeId, values: readonly string[], path: string, out: IssueCollector): void {
  values.forEach((v, i) => {
    const at = join(path, i);
    switch (attribute) {
      case 'source.ip':
      case 'remote.ip':
      case 'destination.ip':
        if (!parseCidr(v)) out.error('ERR_POLICY_BAD_CIDR', at, `invalid IP address or CIDR range "${v}"`);
        break;
      case 'destination.port':
        if (!PORT.test(v) || Number(v) > 65535) out.error('ERR_POLICY_BAD_PORT', at, `invalid port "${v}": must be a decimal number 0-65535`);
        break;
      case 'source.serviceAccount':
        checkServiceAccount(v, at, out);
        break;
      case 'source.trustDomain':
        checkTrustDomain(v, at, out);
        break;
      case 'request.path':
        if (isPathTemplate(v) || v.includes('{') || v.includes('}')) {
          const problem = pathTemplateProblem(v);
          if (problem) out.error('ERR_POLICY_INVALID_FIELD', at, `invalid path template "${v}": ${problem}`);
        }
        break;
      default:
        break;
    }
  });
  if (attribute === 'source.serviceAccount' && values.length > 16) {
    out.error('ERR_POLICY_INVALID_FIELD', path, `at most 16 service accounts are allowed, got ${values.length}`);
  }
}

function checkServiceAccount(v: string, at: string, out: IssueCollector): void {
  if (v.length > 320) out.error('ERR_POLICY_INVALID_FIELD', at, 'service account must be at most 320 characters');
  if (v.includes('*')) out.error('ERR_POLICY_INVALID_FIELD', at, `wildcards are not allowed in service accounts, got "${v}"`);
  const parts = v.split('/');
  if (parts.length > 2 || parts.some((p) => p === '')) {
    out.error('ERR_POLICY_INVALID_FIELD', at, `service account must be "<sa>" or "<namespace>/<sa>", got "${v}"`);
  }
}

function checkTrustDomain(v: string, at: string, out: IssueCollector): void {
  if (v.includes('/')) out.error('ERR_POLICY_INVALID_FIELD', at, `trust domain must not contain "/", got "${v}"`);
  const stars = v.split('*').length - 1;
  if (stars > 1 || (stars === 1 && !v.startsWith('*') && !v.endsWith('*'))) {
    out.error('ERR_POLICY_INVALID_FIELD', at, `trust domain allows one "*", only at the start or the end, got "${v}"`);
  }
}
