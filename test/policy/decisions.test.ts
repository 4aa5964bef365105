import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PolicyError } from '../../src/policy/index.js';
import { engine, input, policy, WORKLOAD } from './helpers.js';

const DENY_ALL_GET = { to: [{ operation: { methods: ['GET'] } }] };

test('empty-rule table: ALLOW with rules absent or [] is allow-nothing', () => {
  for (const spec of [{}, { rules: [] }, { action: 'ALLOW' }]) {
    const d = engine([policy('p', spec)]).evaluate(input());
    assert.equal(d.allowed, false);
    assert.match(d.reason, /no ALLOW policy matched/);
  }
});

test('empty-rule table: ALLOW with [{}] is allow-all', () => {
  const d = engine([policy('p', { rules: [{}] })]).evaluate(input({ principal: null }));
  assert.deepEqual([d.allowed, d.policy, d.rule], [true, 'foo/p', 0]);
});

test('empty-rule table: DENY and CUSTOM without rules are refused by validation', () => {
  for (const spec of [{ action: 'DENY' }, { action: 'DENY', rules: [] }, { action: 'CUSTOM', provider: { name: 'ext' } }]) {
    assert.throws(() => engine([policy('p', spec)]), (e: unknown) => e instanceof PolicyError && e.issues.some((i) => i.path === 'spec.rules'));
  }
});

test('empty-rule table: DENY with [{}] is deny-all', () => {
  const d = engine([policy('p', { action: 'DENY', rules: [{}] }), policy('a', { rules: [{}] })]).evaluate(input());
  assert.deepEqual([d.allowed, d.policy], [false, 'foo/p']);
});

test('empty-rule table: AUDIT without rules audits nothing, with [{}] audits everything', () => {
  const none = engine([policy('p', { action: 'AUDIT' })]).evaluate(input());
  assert.deepEqual([none.allowed, none.audit], [true, false]);
  const all = engine([policy('p', { action: 'AUDIT', rules: [{}] })]).evaluate(input());
  assert.deepEqual([all.allowed, all.audit, all.auditPolicy], [true, true, 'foo/p']);
});

test('empty-rule table: CUSTOM with [{}] sends everything to the provider', () => {
  const seen: string[] = [];
  const e = engine([policy('c', { action: 'CUSTOM', provider: { name: 'ext' }, rules: [{}] })], {
    providers: { ext: { check: (c) => (seen.push(c.policy), c.input.request.path !== '/blocked') } },
  });
  assert.equal(e.evaluate(input({ path: '/ok' })).allowed, true);
  const d = e.evaluate(input({ path: '/blocked' }));
  assert.deepEqual([d.allowed, d.policy], [false, 'foo/c']);
  assert.deepEqual(seen, ['foo/c', 'foo/c']);
});

test('no policy: everything is allowed', () => {
  const d = engine([]).evaluate(input({ principal: null }));
  assert.equal(d.allowed, true);
  assert.match(d.reason, /no ALLOW policy applies/);
});

test('DENY wins over ALLOW; ALLOW decides otherwise; default-deny once an ALLOW applies', () => {
  const e = engine([
    policy('allow-bar', { rules: [{ from: [{ source: { namespaces: ['bar'] } }] }] }),
    policy('deny-admin', { action: 'DENY', rules: [{ to: [{ operation: { paths: ['/admin*'] } }] }] }),
  ]);
  assert.equal(e.evaluate(input({ path: '/admin/x' })).policy, 'foo/deny-admin');
  assert.equal(e.evaluate(input({ path: '/admin/x' })).allowed, false);
  assert.deepEqual(e.evaluate(input({ path: '/x' })).policy, 'foo/allow-bar');
  assert.equal(e.evaluate(input({ principal: 'cluster.local/ns/baz/sa/x' })).allowed, false);
});

test('surprise 3: ALLOW notPaths:[/healthz] + requestPrincipals denies /healthz by default-deny', () => {
  const e = engine([policy('jwt', { rules: [{ from: [{ source: { requestPrincipals: ['*'] } }], to: [{ operation: { notPaths: ['/healthz'] } }] }] })]);
  assert.equal(e.evaluate(input({ path: '/healthz' })).allowed, false);
  assert.equal(e.evaluate(input({ path: '/x', jwtClaims: { iss: 'i', sub: 's' } })).allowed, true);
});

test('scoping: root namespace applies everywhere, other namespaces only to their own workloads', () => {
  const e = engine([
    policy('root-deny', { action: 'DENY', rules: [{ to: [{ operation: { paths: ['/root-denied'] } }] }] }, { namespace: 'istio-system' }),
    policy('other-deny', { action: 'DENY', rules: [{}] }, { namespace: 'other' }),
  ]);
  assert.equal(e.evaluate(input({ path: '/root-denied' })).policy, 'istio-system/root-deny');
  assert.equal(e.evaluate(input({ path: '/x' })).allowed, true);
  assert.equal(e.evaluate(input({ path: '/x' }, { namespace: 'other', labels: {} })).allowed, false);
  const custom = engine([policy('r', { action: 'DENY', rules: [{}] }, { namespace: 'mesh-root' })], { rootNamespace: 'mesh-root' });
  assert.equal(custom.evaluate(input()).allowed, false);
});

test('scoping: selector is a subset match on labels; targetRefs never apply to workloads', () => {
  const e = engine([
    policy('v1-only', { action: 'DENY', selector: { matchLabels: { app: 'httpbin', version: 'v1' } }, rules: [{}] }),
    policy('gw', { action: 'DENY', targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'gw' }], rules: [{}] }),
  ]);
  assert.equal(e.evaluate(input()).allowed, false);
  assert.equal(e.evaluate(input({}, { namespace: 'foo', labels: { app: 'httpbin', version: 'v2' } })).allowed, true);
  assert.equal(e.evaluate(input({}, { namespace: 'foo', labels: { app: 'httpbin' } })).allowed, true);
  const ex = e.explain(input({}, { namespace: 'foo', labels: { app: 'httpbin' } }));
  assert.match(ex.policies.find((p) => p.policy === 'foo/gw')!.notApplicable!, /targetRef/);
  assert.match(ex.policies.find((p) => p.policy === 'foo/v1-only')!.notApplicable!, /selector version=v1/);
});

test('TCP: an ALLOW rule with any HTTP-only field is dropped whole; other rules survive', () => {
  const e = engine([
    policy('a', {
      rules: [
        { to: [{ operation: { methods: ['GET'], ports: ['9000'] } }] },
        { from: [{ source: { notRequestPrincipals: ['*'] } }] },
        { to: [{ operation: { ports: ['8000'] } }] },
      ],
    }),
  ]);
  assert.equal(e.evaluate(input({ protocol: 'TCP', port: 9000 })).allowed, false, 'methods+ports rule is dropped on TCP');
  assert.deepEqual([e.evaluate(input({ protocol: 'TCP', port: 8000 })).allowed, e.evaluate(input({ protocol: 'TCP', port: 8000 })).rule], [true, 2]);
  assert.equal(e.evaluate(input({ protocol: 'HTTP', port: 9000 })).allowed, true, 'on HTTP the rule works');
});

test('TCP: an ALLOW policy whose every rule is dropped still denies everything', () => {
  const e = engine([policy('a', { rules: [{ to: [{ operation: { methods: ['GET'] } }] }] })]);
  const d = e.evaluate(input({ protocol: 'TCP' }));
  assert.equal(d.allowed, false);
  assert.deepEqual(e.policies[0]!.tcpDropped, [0]);
});

test('TCP: a DENY rule made only of HTTP fields denies every connection', () => {
  for (const rule of [DENY_ALL_GET, { from: [{ source: { notRequestPrincipals: ['*'] } }] }, { when: [{ key: 'request.headers[x]', values: ['y'] }] }]) {
    const e = engine([policy('d', { action: 'DENY', rules: [rule] })]);
    assert.equal(e.evaluate(input({ protocol: 'TCP' })).allowed, false, JSON.stringify(rule));
    assert.equal(e.evaluate(input({ protocol: 'HTTP', method: 'POST', jwtClaims: { iss: 'a', sub: 'b' } })).allowed, true);
  }
});

test('TCP: a mixed DENY rule keeps its TCP parts (methods+ports denies the whole port)', () => {
  const e = engine([policy('d', { action: 'DENY', rules: [{ to: [{ operation: { methods: ['GET'], ports: ['9000'] } }] }] })]);
  assert.equal(e.evaluate(input({ protocol: 'TCP', port: 9000 })).allowed, false);
  assert.equal(e.evaluate(input({ protocol: 'TCP', port: 8000 })).allowed, true);
  assert.equal(e.evaluate(input({ protocol: 'HTTP', port: 9000, method: 'POST' })).allowed, true);
});

test('TCP: AUDIT widens like DENY', () => {
  const e = engine([policy('au', { action: 'AUDIT', rules: [{ to: [{ operation: { paths: ['/x'] } }] }] })]);
  assert.equal(e.evaluate(input({ protocol: 'TCP' })).audit, true);
  assert.equal(e.evaluate(input({ protocol: 'HTTP', path: '/y' })).audit, false);
});

test('TCP: TCP fields still work per connection', () => {
  const e = engine([policy('a', { rules: [{ from: [{ source: { principals: ['*/sa/sleep'], ipBlocks: ['10.0.0.0/8'] } }], when: [{ key: 'connection.sni', values: ['a.b'] }] }] })]);
  assert.equal(e.evaluate(input({ protocol: 'TCP', sni: 'a.b' })).allowed, true);
  assert.equal(e.evaluate(input({ protocol: 'TCP', sni: 'c.d' })).allowed, false);
});

test('dry-run ALLOW does not trigger default-deny, and reports its shadow decision', () => {
  const dry = { annotations: { 'istio.io/dry-run': 'true' } };
  const e = engine([policy('a', { rules: [{ from: [{ source: { namespaces: ['ok'] } }] }] }, dry)]);
  const d = e.evaluate(input());
  assert.equal(d.allowed, true);
  assert.deepEqual(d.dryRun && [d.dryRun.allowed, d.dryRun.action], [false, 'DENY']);
  const ok = e.evaluate(input({ principal: 'cluster.local/ns/ok/sa/x' }));
  assert.deepEqual(ok.dryRun && [ok.dryRun.allowed, ok.dryRun.policy], [true, 'foo/a']);
});

test('dry-run DENY is not enforced but reported', () => {
  const e = engine([policy('d', { action: 'DENY', rules: [{}] }, { annotations: { 'istio.io/dry-run': 'True' } })]);
  const d = e.evaluate(input());
  assert.equal(d.allowed, true);
  assert.deepEqual(d.dryRun && [d.dryRun.allowed, d.dryRun.policy, d.dryRun.rule], [false, 'foo/d', 0]);
});

test('dry-run "false" is enforced; no dryRun field without dry-run policies', () => {
  const d = engine([policy('d', { action: 'DENY', rules: [{}] }, { annotations: { 'istio.io/dry-run': 'false' } })]).evaluate(input());
  assert.equal(d.allowed, false);
  assert.equal(d.dryRun, undefined);
});

test('dry-run is refused on AUDIT and CUSTOM, and must be a boolean', () => {
  const bad = [
    policy('a', { action: 'AUDIT', rules: [{}] }, { annotations: { 'istio.io/dry-run': 'true' } }),
    policy('c', { action: 'CUSTOM', provider: { name: 'x' }, rules: [{}] }, { annotations: { 'istio.io/dry-run': 'true' } }),
    policy('b', { rules: [{}] }, { annotations: { 'istio.io/dry-run': 'yes' } }),
  ];
  for (const p of bad) {
    assert.throws(() => engine([p]), (e: unknown) => e instanceof PolicyError && e.issues[0]!.path === 'metadata.annotations.istio.io/dry-run');
  }
});

test('AUDIT never changes the decision', () => {
  const e = engine([policy('au', { action: 'AUDIT', rules: [{ to: [{ operation: { paths: ['/secret'] } }] }] }), policy('d', { action: 'DENY', rules: [{ to: [{ operation: { paths: ['/secret'] } }] }] })]);
  const d = e.evaluate(input({ path: '/secret' }));
  assert.deepEqual([d.allowed, d.audit, d.auditPolicy], [false, true, 'foo/au']);
  assert.deepEqual([e.evaluate(input({ path: '/x' })).allowed, e.evaluate(input({ path: '/x' })).audit], [true, false]);
});

test('CUSTOM: no provider configured denies what the policy matches, nothing else', () => {
  const e = engine([policy('c', { action: 'CUSTOM', provider: { name: 'missing' }, rules: [{ to: [{ operation: { paths: ['/ext/*'] } }] }] })]);
  const d = e.evaluate(input({ path: '/ext/a' }));
  assert.equal(d.allowed, false);
  assert.match(d.reason, /not configured/);
  assert.equal(e.evaluate(input({ path: '/other' })).allowed, true);
});

test('CUSTOM: a throwing provider denies; an allowing provider cannot override DENY', () => {
  const e = engine(
    [
      policy('c', { action: 'CUSTOM', provider: { name: 'boom' }, rules: [{ to: [{ operation: { paths: ['/boom'] } }] }] }),
      policy('c2', { action: 'CUSTOM', provider: { name: 'yes' }, rules: [{}] }),
      policy('d', { action: 'DENY', rules: [{ to: [{ operation: { paths: ['/denied'] } }] }] }),
    ],
    { providers: { boom: { check: () => { throw new Error('down'); } }, yes: { check: () => ({ allowed: true }) } } },
  );
  assert.match(e.evaluate(input({ path: '/boom' })).reason, /failed: down/);
  assert.equal(e.evaluate(input({ path: '/denied' })).allowed, false);
  assert.equal(e.evaluate(input({ path: '/fine' })).allowed, true);
});

test('CUSTOM: async providers need evaluateAsync; evaluate fails closed', async () => {
  const e = engine([policy('c', { action: 'CUSTOM', provider: { name: 'ext' }, rules: [{}] })], {
    providers: { ext: { check: async (c) => ({ allowed: c.forwardPath === '/ok?q=1', reason: 'path' }) } },
  });
  assert.equal(e.evaluate(input({ path: '/ok?q=1' })).allowed, false);
  assert.equal((await e.evaluateAsync(input({ path: '/./ok?q=1' }))).allowed, true);
  const d = await e.evaluateAsync(input({ path: '/no' }));
  assert.deepEqual([d.allowed, d.reason], [false, 'denied by CUSTOM provider "ext": path']);
});

test('replace swaps the set atomically, and a bad set changes nothing', () => {
  const e = engine([policy('d', { action: 'DENY', rules: [{}] })]);
  assert.equal(e.evaluate(input()).allowed, false);
  assert.throws(() => e.replace([policy('ok', { rules: [{}] }), policy('bad', { rules: [{ from: [] }] })]), PolicyError);
  assert.equal(e.evaluate(input()).allowed, false, 'old set still in force');
  assert.equal(e.policies.length, 1);
  e.replace('apiVersion: security.istio.io/v1beta1\nkind: AuthorizationPolicy\nmetadata: {name: allow, namespace: foo}\nspec: {rules: [{}]}\n');
  const d = e.evaluate(input());
  assert.deepEqual([d.allowed, d.policy], [true, 'foo/allow']);
});

test('the first matching rule in namespace/name order decides, whatever the index bucket', () => {
  const e = engine([
    policy('b', { rules: [{ from: [{ source: { principals: ['cluster.local/ns/bar/sa/sleep'] } }] }] }),
    policy('a', { rules: [{ to: [{ operation: { paths: ['/x'] } }] }, { from: [{ source: { namespaces: ['bar'] } }] }] }),
  ]);
  const d = e.evaluate(input({ path: '/x' }));
  assert.deepEqual([d.policy, d.rule], ['foo/a', 0]);
  const d2 = e.evaluate(input({ path: '/y' }));
  assert.deepEqual([d2.policy, d2.rule], ['foo/a', 1]);
});

test('workload labels are read per call: the same namespace with other labels gets its own rules', () => {
  const e = engine([policy('d', { action: 'DENY', selector: { matchLabels: { app: 'a' } }, rules: [{}] })]);
  const labels: Record<string, string> = { app: 'a' };
  assert.equal(e.evaluate(input({}, { namespace: 'foo', labels })).allowed, false);
  labels.app = 'b';
  assert.equal(e.evaluate(input({}, { namespace: 'foo', labels })).allowed, true);
  assert.equal(e.evaluate(input({}, { ...WORKLOAD, labels: { app: 'a' } })).allowed, false);
});

test('programmer mistakes in evaluate() input are TypeErrors, not silent decisions', () => {
  const e = engine([]);
  assert.throws(() => e.evaluate({ request: {} } as never), TypeError);
  assert.throws(() => e.evaluate(input({ protocol: 'http' as never })), /'HTTP' or 'TCP'/);
});
