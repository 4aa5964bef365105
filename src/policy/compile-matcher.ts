import { cidrContains, parseCidr, type CidrRange, type IpAddress } from './ip-address.js';
import type { MatcherIR, RuleIR, ValueSetIR } from './policy-ir.js';
import { parseRequestPrincipal } from './request-principal.js';
import type { JwtPrincipal, RequestContext } from './request-context.js';
import { compilePattern } from './string-pattern.js';
import { stringSetMatcher } from './string-set.js';

/**
 * Turns the compiled data form into closures, once. Each attribute gets its
 * reader and each value set its test at compile time, so a request only runs
 * the chosen functions: no field names are looked at per request.
 *
 * Missing attributes follow Envoy: a positive matcher on a missing attribute
 * is false, a negated one true (AUTHZ.md §3.2).
 */
export type Test = (ctx: RequestContext) => boolean;

/** A read value: one string, a list (claims), an IP, a port, or the JWT identity. */
type Value = string | readonly string[] | IpAddress | number | JwtPrincipal;
type Reader = (ctx: RequestContext) => Value | undefined | null;
type ValueTest = (value: never) => boolean;

export function compileMatcher(m: MatcherIR): Test {
  const read = readerFor(m);
  const fused = fusedMatcher(m, read);
  if (fused) return fused;
  const pos = m.values ? valueTest(m.values, m) : null;
  const neg = m.notValues ? valueTest(m.notValues, m) : null;
  if (pos && neg) {
    return (ctx) => {
      const v = read(ctx);
      return v !== undefined && v !== null && pos(v as never) && !neg(v as never);
    };
  }
  if (pos) {
    return (ctx) => {
      const v = read(ctx);
      return v !== undefined && v !== null && pos(v as never);
    };
  }
  if (neg) {
    return (ctx) => {
      const v = read(ctx);
      return v === undefined || v === null || !neg(v as never);
    };
  }
  return () => true;
}

export function compileRule(rule: RuleIR): Test {
  const clauses: Test[] = [];
  if (rule.from) clauses.push(anyEntry(rule.from.map(allOf)));
  if (rule.to) clauses.push(anyEntry(rule.to.map(allOf)));
  for (const m of rule.when) clauses.push(compileMatcher(m));
  return and(clauses);
}

function allOf(entry: readonly MatcherIR[]): Test {
  return and(entry.map(compileMatcher));
}

function and(tests: Test[]): Test {
  if (tests.length === 0) return () => true;
  if (tests.length === 1) return tests[0]!;
  if (tests.length === 2) {
    const [a, b] = tests as [Test, Test];
    return (ctx) => a(ctx) && b(ctx);
  }
  return (ctx) => {
    for (let i = 0; i < tests.length; i++) if (!tests[i]!(ctx)) return false;
    return true;
  };
}

function anyEntry(tests: Test[]): Test {
  if (tests.length === 1) return tests[0]!;
  return (ctx) => {
    for (let i = 0; i < tests.length; i++) if (tests[i]!(ctx)) return true;
    return false;
  };
}

/** Readers of fixed attributes are shared by every matcher, so they stay hot in cache. */
const READERS: Partial<Record<MatcherIR['attribute'], Reader>> = {
  'source.principal': (ctx) => ctx.principal,
  'source.serviceAccount': (ctx) => ctx.principal,
  'source.namespace': (ctx) => ctx.peerNamespace,
  'source.trustDomain': (ctx) => ctx.peerTrustDomain,
  'source.ip': (ctx) => ctx.ip('source'),
  'remote.ip': (ctx) => ctx.ip('remote'),
  'destination.ip': (ctx) => ctx.ip('destination'),
  'destination.port': (ctx) => ctx.port,
  'connection.sni': (ctx) => ctx.sni,
  'request.host': (ctx) => ctx.host,
  'request.method': (ctx) => ctx.method,
  'request.path': (ctx) => ctx.path,
  'request.auth.principal': (ctx) => ctx.jwtPrincipal,
  'request.auth.audiences': (ctx) => ctx.claim(AUD),
  'request.auth.presenter': (ctx) => ctx.claim(AZP),
};
const AUD = ['aud'];
const AZP = ['azp'];

function readerFor(m: MatcherIR): Reader {
  if (m.attribute === 'request.headers') {
    const name = m.header!;
    return (ctx) => ctx.header(name);
  }
  if (m.attribute === 'request.auth.claims') {
    const path = m.claim!;
    return (ctx) => ctx.claim(path);
  }
  return READERS[m.attribute]!;
}

/** Single-valued string attributes, whose common value sets get one fused closure. */
const SINGLE_STRING = new Set<MatcherIR['attribute']>(['source.principal', 'source.namespace', 'source.trustDomain', 'connection.sni', 'request.host', 'request.method', 'request.path', 'request.headers']);

/**
 * The usual shapes (only `values`; exact values, or one prefix) compiled into
 * a single closure: fewer objects to chase per request when rules are cold.
 */
function fusedMatcher(m: MatcherIR, read: Reader): Test | null {
  const set = m.values;
  if (m.notValues || !set || set.kind !== 'string' || !SINGLE_STRING.has(m.attribute)) return null;
  if (set.presence || set.suffix.length > 0 || set.templates.length > 0) return null;
  const str = read as (ctx: RequestContext) => string | undefined;
  if (set.prefix.length === 0 && set.exact.length === 1) {
    const only = set.exact[0]!;
    return (ctx) => str(ctx) === only;
  }
  if (set.prefix.length === 0) {
    const exact = new Set(set.exact);
    return (ctx) => {
      const v = str(ctx);
      return v !== undefined && exact.has(v);
    };
  }
  if (set.prefix.length === 1 && set.exact.length === 0) {
    const prefix = set.prefix[0]!;
    return (ctx) => {
      const v = str(ctx);
      return v !== undefined && v.startsWith(prefix);
    };
  }
  if (set.prefix.length === 1 && set.exact.length === 1) {
    const prefix = set.prefix[0]!;
    const only = set.exact[0]!;
    return (ctx) => {
      const v = str(ctx);
      return v !== undefined && (v === only || v.startsWith(prefix));
    };
  }
  return null;
}

function valueTest(set: ValueSetIR, m: MatcherIR): ValueTest {
  switch (set.kind) {
    case 'string': {
      const test = stringSetMatcher(set);
      if (m.attribute === 'request.auth.claims' || m.attribute === 'request.auth.audiences' || m.attribute === 'request.auth.presenter') {
        // Claims are a string or a list of strings: any element may match.
        return ((list: readonly string[]) => list.some(test)) as ValueTest;
      }
      return test as ValueTest;
    }
    case 'cidr': {
      const ranges: CidrRange[] = set.cidrs.map((c) => parseCidr(c)!);
      return ((ip: IpAddress) => ranges.some((r) => cidrContains(r, ip))) as ValueTest;
    }
    case 'port': {
      const ports = new Set(set.ports);
      return ((port: number) => ports.has(port)) as ValueTest;
    }
    case 'serviceAccount': {
      // Istio's regex: spiffe://.+/ns/<ns>/(.+/|)sa/<sa>(/.+)?
      const res = set.accounts.map((a) => {
        const [ns, sa] = a.split('/') as [string, string];
        return new RegExp(`^.+/ns/${escape(ns)}/(.+/|)sa/${escape(sa)}(/.+)?$`, 's');
      });
      return ((principal: string) => res.some((re) => re.test(principal))) as ValueTest;
    }
    case 'requestPrincipal': {
      const patterns = set.patterns.map(parseRequestPrincipal).map((pat) => ({ iss: compilePattern(pat.iss), sub: compilePattern(pat.sub) }));
      return ((p: JwtPrincipal) => patterns.some((pat) => pat.iss(p.iss) && pat.sub(p.sub))) as ValueTest;
    }
  }
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
