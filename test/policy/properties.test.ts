import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PolicyEngine, normalizePath, type PathNormalizationOptions } from '../../src/policy/index.js';
import { input, policy } from './helpers.js';

/** Property tests: normalization is idempotent; a DENY policy never allows a request it matches. */

const pathToken = fc.constantFrom('/', '//', '.', '..', '/./', '/../', 'a', 'B', '%2e', '%2E', '%2F', '%2f', '%5C', '%25', '%252F', '%41', '%7e', '%3B', ';x=1', '\\', 'admin', '-', '~', '?q', '#f', '%20', '*');
const rawPath = fc.array(pathToken, { maxLength: 12 }).map((t) => `/${t.join('')}`);
const normOptions: fc.Arbitrary<PathNormalizationOptions> = fc.record({
  escapedSlashes: fc.constantFrom('reject' as const, 'decode' as const),
  mergeSlashes: fc.boolean(),
  pathParameters: fc.constantFrom('reject' as const, 'strip' as const),
});

test('normalizePath is idempotent, and normalizing the forwarded path changes nothing', () => {
  fc.assert(
    fc.property(rawPath, normOptions, (raw, options) => {
      const once = normalizePath(raw, options);
      if (!once.ok) return;
      const twice = normalizePath(once.path, options);
      assert.deepEqual(twice.ok && twice.path, once.path, `${raw} → ${once.path}`);
      const again = normalizePath(once.forward, options);
      assert.deepEqual(again.ok && again.path, once.path, `forward ${once.forward}`);
    }),
    { numRuns: 3000 },
  );
});

test('a normalized path has no dot segments, no escaped slash, no NUL, and no // when merging', () => {
  fc.assert(
    fc.property(rawPath, normOptions, (raw, options) => {
      const n = normalizePath(raw, options);
      if (!n.ok) return;
      assert.ok(n.path.startsWith('/'));
      assert.ok(!/(^|\/)\.\.?(\/|$)/.test(n.path), n.path);
      assert.ok(!/%2f|%5c|%00|\\|[?#]/i.test(n.path), n.path);
      if (options.mergeSlashes !== false) assert.ok(!n.path.includes('//'), n.path);
    }),
    { numRuns: 3000 },
  );
});

// A small reference of AUTHZ.md §3.1–3.3, written independently of the engine, over normalized values.
type Req = { principal: string | null; method: string; path: string; host: string; port: number; header: string | undefined };
const match = (p: string, v: string | undefined | null): boolean => {
  if (v === undefined || v === null) return false;
  if (p === '*') return v.length > 0;
  if (p.startsWith('*')) return v.endsWith(p.slice(1));
  if (p.endsWith('*')) return v.startsWith(p.slice(0, -1));
  return v === p;
};
const pair = (values: string[] | undefined, notValues: string[] | undefined, v: string | undefined | null) =>
  (!values?.length || values.some((p) => match(p, v))) && (!notValues?.length || !notValues.some((p) => match(p, v)));
const ns = (principal: string | null) => (principal ? /\/ns\/([^/]+)\//.exec(principal)?.[1] : undefined);

interface GenRule {
  from?: Array<{ source: Record<string, string[]> }>;
  to?: Array<{ operation: Record<string, string[]> }>;
  when?: Array<{ key: string; values?: string[]; notValues?: string[] }>;
}
function referenceMatches(rule: GenRule, r: Req): boolean {
  const fromOk = !rule.from || rule.from.some(({ source: s }) => pair(s.principals, s.notPrincipals, r.principal) && pair(s.namespaces, s.notNamespaces, ns(r.principal)));
  const toOk =
    !rule.to ||
    rule.to.some(({ operation: o }) => pair(o.methods, o.notMethods, r.method) && pair(o.paths, o.notPaths, r.path) && pair(o.hosts, o.notHosts, r.host) && pair(o.ports, o.notPorts, String(r.port)));
  // Header presence "*" compiles to Envoy present_match: an empty header is present (AUTHZ.md §3.8).
  const headerMatch = (p: string) => (p === '*' ? r.header !== undefined : match(p, r.header));
  const whenOk = (rule.when ?? []).every((c) => (!c.values?.length || c.values.some(headerMatch)) && (!c.notValues?.length || !c.notValues.some(headerMatch)));
  return fromOk && toOk && whenOk;
}

const values = (pool: string[]) => fc.uniqueArray(fc.constantFrom(...pool), { minLength: 1, maxLength: 3 });
const PRINCIPALS = ['cluster.local/ns/a/sa/x', 'cluster.local/ns/b/sa/y', 'cluster.local/ns/a/*', '*/sa/y', '*'];
const PATHS = ['/admin', '/admin/*', '/api/*', '*/debug', '/', '*'];
const HOSTS = ['api.example.com', '*.example.com', 'api.example.com:*'];
const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
const dropUndefined = (o: Record<string, string[] | undefined>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Record<string, string[]>;
const source = fc
  .record({ principals: optional(values(PRINCIPALS)), notPrincipals: optional(values(PRINCIPALS)), namespaces: optional(values(['a', 'b', 'c*'])), notNamespaces: optional(values(['a', 'b'])) })
  .map(dropUndefined)
  .filter((s) => Object.keys(s).length > 0);
const operation = fc
  .record({ methods: optional(values(['GET', 'POST', 'DELETE', 'P*'])), notMethods: optional(values(['GET'])), paths: optional(values(PATHS)), notPaths: optional(values(PATHS)), hosts: optional(values(HOSTS)), ports: optional(values(['80', '8080'])), notPorts: optional(values(['8080'])) })
  .map(dropUndefined)
  .filter((o) => Object.keys(o).length > 0);
const rule: fc.Arbitrary<GenRule> = fc
  .record({
    from: optional(fc.array(source.map((s) => ({ source: s })), { minLength: 1, maxLength: 2 })),
    to: optional(fc.array(operation.map((o) => ({ operation: o })), { minLength: 1, maxLength: 2 })),
    when: optional(fc.array(fc.record({ key: fc.constant('request.headers[x-role]'), values: values(['admin', 'user*', '*']) }), { maxLength: 1 })),
  })
  .map((r) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined && (!Array.isArray(v) || v.length > 0))) as GenRule);
const request = fc.record({
  principal: fc.constantFrom('cluster.local/ns/a/sa/x', 'cluster.local/ns/b/sa/y', 'cluster.local/ns/c1/sa/z', null),
  method: fc.constantFrom('GET', 'POST', 'DELETE', 'PUT'),
  path: fc.constantFrom('/admin', '/admin/x', '//admin', '/api/../admin', '/api/v1', '/x/debug', '/%61dmin', '/', '/api/v1?x=1'),
  host: fc.constantFrom('api.example.com', 'API.example.com:80', 'www.example.com:8080', 'other.org'),
  port: fc.constantFrom(80, 8080),
  header: fc.constantFrom(undefined, 'admin', 'user', 'user-2', ''),
});

test('a DENY policy never allows a request it matches, whatever ALLOW policies sit beside it', () => {
  fc.assert(
    fc.property(rule, fc.array(rule, { maxLength: 3 }), request, (denyRule, allowRules, r) => {
      const attrs = { principal: r.principal, method: r.method, path: r.path, host: r.host, port: r.port, headers: r.header === undefined ? {} : { 'x-role': r.header } };
      const deny = policy('deny', { action: 'DENY', rules: [denyRule] });
      const allows = [policy('allow-all', { rules: [{}] }), ...allowRules.map((x, i) => policy(`allow-${i}`, { rules: [x] }))];
      const engine = PolicyEngine.fromObjects([deny, ...allows]);
      const seen = engine.normalize(attrs);
      assert.ok(seen.ok);
      const normalized: Req = { principal: r.principal, method: r.method, path: seen.path!, host: seen.host!, port: r.port, header: r.header };
      const decision = engine.evaluate(input(attrs));
      if (referenceMatches(denyRule, normalized)) {
        assert.equal(decision.allowed, false, `DENY matched but request allowed: ${decision.reason}`);
        assert.equal(decision.policy, 'foo/deny');
      } else {
        assert.equal(decision.allowed, true, `DENY did not match per reference, yet: ${decision.reason}`);
      }
    }),
    { numRuns: 1500 },
  );
});

test('the same rule as ALLOW allows exactly what the reference matches', () => {
  fc.assert(
    fc.property(rule, request, (allowRule, r) => {
      const attrs = { principal: r.principal, method: r.method, path: r.path, host: r.host, port: r.port, headers: r.header === undefined ? {} : { 'x-role': r.header } };
      const engine = PolicyEngine.fromObjects([policy('allow', { rules: [allowRule] })]);
      const seen = engine.normalize(attrs);
      assert.ok(seen.ok);
      const expected = referenceMatches(allowRule, { principal: r.principal, method: r.method, path: seen.path!, host: seen.host!, port: r.port, header: r.header });
      assert.equal(engine.evaluate(input(attrs)).allowed, expected);
    }),
    { numRuns: 1500 },
  );
});
