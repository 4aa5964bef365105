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

function readerFor(m: MatcherIR): Reader {
  switch (m.attribute) {
    case 'source.principal':
    case 'source.serviceAccount':
      return (ctx) => ctx.principal;
    case 'source.namespace':
      return (ctx) => ctx.peerNamespace;
    case 'source.trustDomain':
      return (ctx) => ctx.peerTrustDomain;
    case 'source.ip':
      return (ctx) => ctx.ip('source');
    case 'remote.ip':
      return (ctx) => ctx.ip('remote');
    case 'destination.ip':
      return (ctx) => ctx.ip('destination');
    case 'destination.port':
      return (ctx) => ctx.port;
    case 'connection.sni':
      return (ctx) => ctx.sni;
    case 'request.host':
      return (ctx) => ctx.host;
    case 'request.method':
      return (ctx) => ctx.method;
    case 'request.path':
      return (ctx) => ctx.path;
    case 'request.headers': {
      const name = m.header!;
      return (ctx) => ctx.header(name);
    }
    case 'request.auth.principal':
      return (ctx) => ctx.jwtPrincipal;
    case 'request.auth.audiences':
      return (ctx) => ctx.claim(['aud']);
    case 'request.auth.presenter':
      return (ctx) => ctx.claim(['azp']);
    case 'request.auth.claims': {
      const path = m.claim!;
      return (ctx) => ctx.claim(path);
    }
  }
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
