import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PolicyEngine, PolicyError, type PolicyIssue } from '../../src/policy/index.js';
import { policy } from './helpers.js';

/** Admission-style validation: each bad policy names file, document, field path and a stable code. */

function issuesOf(fn: () => unknown): readonly PolicyIssue[] {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof PolicyError, `expected PolicyError, got ${String(e)}`);
    assert.equal(e.code, 'ERR_POLICY_INVALID');
    return e.issues;
  }
  assert.fail('expected the policy set to be refused');
}

function rejects(spec: Record<string, unknown>, path: string, code: PolicyIssue['code'], message?: RegExp, extra: { annotations?: Record<string, string>; namespace?: string } = {}): void {
  const issues = issuesOf(() => PolicyEngine.fromObjects([policy('p', spec, extra)]));
  const hit = issues.find((i) => i.path === path);
  assert.ok(hit, `no issue at ${path}; got ${JSON.stringify(issues)}`);
  assert.equal(hit.code, code);
  if (message) assert.match(hit.message, message);
}

const source = (s: Record<string, unknown>) => ({ rules: [{ from: [{ source: s }] }] });
const operation = (o: Record<string, unknown>) => ({ rules: [{ to: [{ operation: o }] }] });
const cond = (c: Record<string, unknown>) => ({ rules: [{ when: [c] }] });
const S = 'spec.rules[0].from[0].source';
const O = 'spec.rules[0].to[0].operation';
const W = 'spec.rules[0].when[0]';

test('errors name the file, the document index and the field path', () => {
  const yaml = [
    'apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: good, namespace: foo}\nspec: {rules: [{}]}',
    'apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: bad, namespace: foo}\nspec:\n  rules:\n  - from:\n    - source:\n        ipBlocks: ["10.0.0.0/33"]\n',
  ].join('\n---\n');
  const issues = issuesOf(() => PolicyEngine.fromYaml(yaml, { file: 'policies/foo.yaml' }));
  assert.deepEqual(issues, [
    { code: 'ERR_POLICY_BAD_CIDR', file: 'policies/foo.yaml', document: 1, path: `${S}.ipBlocks[0]`, message: 'invalid IP address or CIDR range "10.0.0.0/33"' },
  ]);
  try {
    PolicyEngine.fromYaml(yaml, { file: 'policies/foo.yaml' });
  } catch (e) {
    assert.match((e as Error).message, /policies\/foo\.yaml: document 1: spec\.rules\[0\]\.from\[0\]\.source\.ipBlocks\[0\]: invalid IP/);
  }
});

test('YAML syntax errors name the document and line; nothing is applied', () => {
  const issues = issuesOf(() => PolicyEngine.fromYaml('kind: AuthorizationPolicy\n---\nmetadata: {name: [\n', { file: 'x.yaml' }));
  assert.equal(issues[0]!.code, 'ERR_POLICY_YAML_SYNTAX');
  assert.equal(issues[0]!.document, 1);
  assert.match(issues[0]!.message, /line \d+/);
});

test('every problem of a set is reported, across documents and files', () => {
  const issues = issuesOf(() =>
    PolicyEngine.fromSources([
      { file: 'a.yaml', text: 'apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: a, namespace: foo}\nspec: {action: NOPE}\n' },
      { file: 'b.yaml', text: 'apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: b, namespace: foo}\nspec: {rules: [{to: [{operation: {ports: ["x"]}}]}]}\n' },
    ]),
  );
  assert.deepEqual(issues.map((i) => [i.file, i.document, i.path, i.code]), [
    ['a.yaml', 0, 'spec.action', 'ERR_POLICY_INVALID_FIELD'],
    ['b.yaml', 0, `${O}.ports[0]`, 'ERR_POLICY_BAD_PORT'],
  ]);
});

test('kind and apiVersion', () => {
  const issues = issuesOf(() => PolicyEngine.fromObjects([{ apiVersion: 'security.istio.io/v1alpha1', kind: 'PeerAuthentication', metadata: { name: 'x' }, spec: {} }]));
  assert.deepEqual(issues.map((i) => i.path), ['apiVersion', 'kind']);
  assert.equal(issuesOf(() => PolicyEngine.fromObjects(['text']))[0]!.code, 'ERR_POLICY_NOT_AN_OBJECT');
});

test('unknown fields at every level', () => {
  rejects({ rules: [{}], extra: 1 }, 'spec.extra', 'ERR_POLICY_UNKNOWN_FIELD');
  rejects({ rules: [{ form: [] }] }, 'spec.rules[0].form', 'ERR_POLICY_UNKNOWN_FIELD');
  rejects(source({ hosts: ['a'] }), `${S}.hosts`, 'ERR_POLICY_UNKNOWN_FIELD');
  rejects(operation({ principals: ['a'] }), `${O}.principals`, 'ERR_POLICY_UNKNOWN_FIELD');
  rejects(cond({ key: 'source.ip', values: ['1.1.1.1'], value: 'x' }), `${W}.value`, 'ERR_POLICY_UNKNOWN_FIELD');
  rejects({ selector: { matchLabels: { a: 'b' }, matchExpressions: [] }, rules: [{}] }, 'spec.selector.matchExpressions', 'ERR_POLICY_UNKNOWN_FIELD');
});

test('metadata: name required and DNS-like, namespace a DNS label', () => {
  const noName = issuesOf(() => PolicyEngine.fromObjects([{ apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: {}, spec: {} }]));
  assert.equal(noName[0]!.path, 'metadata.name');
  rejects({}, 'metadata.namespace', 'ERR_POLICY_INVALID_FIELD', /namespace/, { namespace: 'Bad_NS' });
});

test('duplicate namespace/name in a set', () => {
  const issues = issuesOf(() => PolicyEngine.fromObjects([policy('p', { rules: [{}] }), policy('p', { rules: [{}] })]));
  assert.deepEqual([issues[0]!.code, issues[0]!.document], ['ERR_POLICY_DUPLICATE', 1]);
});

test('empty values are refused in every list', () => {
  for (const f of ['principals', 'notPrincipals', 'requestPrincipals', 'namespaces', 'ipBlocks', 'notRemoteIpBlocks']) {
    rejects(source({ [f]: [''] }), `${S}.${f}[0]`, 'ERR_POLICY_EMPTY_VALUE', /empty value/);
  }
  for (const f of ['hosts', 'notHosts', 'ports', 'methods', 'paths', 'notPaths']) rejects(operation({ [f]: [''] }), `${O}.${f}[0]`, 'ERR_POLICY_EMPTY_VALUE');
  rejects(cond({ key: 'source.namespace', values: [''] }), `${W}.values[0]`, 'ERR_POLICY_EMPTY_VALUE');
  rejects(cond({ key: 'source.namespace', notValues: [''] }), `${W}.notValues[0]`, 'ERR_POLICY_EMPTY_VALUE');
  rejects(source({ principals: [5] }), `${S}.principals[0]`, 'ERR_POLICY_INVALID_FIELD');
  rejects(source({ principals: 'a' }), `${S}.principals`, 'ERR_POLICY_INVALID_FIELD');
});

test('bad CIDRs and ports, in fields and conditions', () => {
  for (const bad of ['10.0.0.256', '10.0.0.0/33', '10.0.0.01', 'a.b.c.d', '::1/129', 'fe80::1%eth0', '1.2.3.4/']) {
    rejects(source({ ipBlocks: [bad] }), `${S}.ipBlocks[0]`, 'ERR_POLICY_BAD_CIDR');
  }
  rejects(source({ notRemoteIpBlocks: ['x'] }), `${S}.notRemoteIpBlocks[0]`, 'ERR_POLICY_BAD_CIDR');
  rejects(cond({ key: 'destination.ip', values: ['nope'] }), `${W}.values[0]`, 'ERR_POLICY_BAD_CIDR');
  for (const bad of ['65536', '-1', '80-90', '*', 'http']) rejects(operation({ ports: [bad] }), `${O}.ports[0]`, 'ERR_POLICY_BAD_PORT');
  rejects(cond({ key: 'destination.port', notValues: ['99999'] }), `${W}.notValues[0]`, 'ERR_POLICY_BAD_PORT');
});

test('selector with targetRefs, and targetRef rules', () => {
  rejects({ selector: { matchLabels: { a: 'b' } }, targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'g' }], rules: [{}] }, 'spec', 'ERR_POLICY_CONFLICTING_FIELDS', /selector and targetRefs/);
  rejects({ targetRef: { kind: 'Gateway', group: 'gateway.networking.k8s.io', name: 'g' }, targetRefs: [] }, 'spec', 'ERR_POLICY_CONFLICTING_FIELDS');
  rejects({ targetRefs: [{ group: 'apps', kind: 'Deployment', name: 'x' }] }, 'spec.targetRefs[0].kind', 'ERR_POLICY_INVALID_FIELD');
  rejects({ targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'g', namespace: 'other' }] }, 'spec.targetRefs[0].namespace', 'ERR_POLICY_INVALID_FIELD');
  rejects({ targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'GatewayClass', name: 'g' }] }, 'spec.targetRefs[0].kind', 'ERR_POLICY_INVALID_FIELD', /root namespace/);
  rejects({ selector: { matchLabels: { app: 'a*' } } }, 'spec.selector.matchLabels.app', 'ERR_POLICY_INVALID_FIELD');
  rejects({ selector: { matchLabels: { '': 'a' } } }, 'spec.selector.matchLabels.', 'ERR_POLICY_INVALID_FIELD');
});

test('CUSTOM: provider required, identity fields forbidden; provider forbidden elsewhere', () => {
  rejects({ action: 'CUSTOM', rules: [{}] }, 'spec.provider.name', 'ERR_POLICY_MISSING_FIELD');
  rejects({ action: 'CUSTOM', provider: { name: 'x' }, ...source({ principals: ['a'] }) }, `${S}.principals`, 'ERR_POLICY_INVALID_FIELD', /CUSTOM/);
  rejects({ action: 'CUSTOM', provider: { name: 'x' }, ...source({ notRequestPrincipals: ['a'] }) }, `${S}.notRequestPrincipals`, 'ERR_POLICY_INVALID_FIELD');
  rejects({ action: 'CUSTOM', provider: { name: 'x' }, ...cond({ key: 'request.auth.claims[a]', values: ['b'] }) }, `${W}.key`, 'ERR_POLICY_INVALID_FIELD');
  rejects({ action: 'DENY', provider: { name: 'x' }, rules: [{}] }, 'spec.provider', 'ERR_POLICY_CONFLICTING_FIELDS');
});

test('rules: from/to present but empty, entries without fields, nil rules', () => {
  rejects({ rules: [{ from: [] }] }, 'spec.rules[0].from', 'ERR_POLICY_EMPTY_VALUE');
  rejects({ rules: [{ to: [] }] }, 'spec.rules[0].to', 'ERR_POLICY_EMPTY_VALUE');
  rejects({ rules: [{ from: [{ source: {} }] }] }, S, 'ERR_POLICY_MISSING_FIELD');
  rejects({ rules: [{ to: [{}] }] }, O, 'ERR_POLICY_MISSING_FIELD');
  // Empty lists count as unset: an ALLOW rule of empty lists must not become allow-all.
  rejects({ rules: [{ from: [{ source: { principals: [] } }] }] }, S, 'ERR_POLICY_MISSING_FIELD');
  rejects({ rules: [{ to: [{ operation: { paths: [], notPaths: [] } }] }] }, O, 'ERR_POLICY_MISSING_FIELD');
  rejects({ rules: [{ when: [{ key: 'source.ip', values: [], notValues: [] }] }] }, W, 'ERR_POLICY_MISSING_FIELD');
  rejects({ rules: [null] }, 'spec.rules[0]', 'ERR_POLICY_INVALID_FIELD');
  rejects({ rules: new Array(513).fill({}) }, 'spec.rules', 'ERR_POLICY_INVALID_FIELD', /512/);
});

test('serviceAccounts and trustDomains', () => {
  rejects(source({ serviceAccounts: ['ns/sa'], principals: ['a'] }), S, 'ERR_POLICY_CONFLICTING_FIELDS');
  rejects(source({ notServiceAccounts: ['sa'], notNamespaces: ['a'] }), S, 'ERR_POLICY_CONFLICTING_FIELDS');
  for (const bad of ['ns/*', 'a/b/c', '/sa', 'ns/']) rejects(source({ serviceAccounts: [bad] }), `${S}.serviceAccounts[0]`, 'ERR_POLICY_INVALID_FIELD');
  rejects(source({ serviceAccounts: new Array(17).fill('sa') }), `${S}.serviceAccounts`, 'ERR_POLICY_INVALID_FIELD', /16/);
  for (const bad of ['a*b', '*a*', 'td/x']) rejects(source({ trustDomains: [bad] }), `${S}.trustDomains[0]`, 'ERR_POLICY_INVALID_FIELD');
});

test('path templates', () => {
  for (const bad of ['/a/{**}/{*}', '/foo/{*}.txt', '/a/{x}', '/a/*/{*}']) rejects(operation({ paths: [bad] }), `${O}.paths[0]`, 'ERR_POLICY_INVALID_FIELD', /template/);
});

test('when: unknown and refused keys, malformed brackets, values required', () => {
  rejects(cond({ key: 'source.unknown', values: ['a'] }), `${W}.key`, 'ERR_POLICY_UNKNOWN_CONDITION', /unknown condition key/);
  rejects(cond({ key: 'destination.namespace', values: ['a'] }), `${W}.key`, 'ERR_POLICY_UNKNOWN_CONDITION', /metadata\.namespace/);
  rejects(cond({ key: 'destination.labels[app]', values: ['a'] }), `${W}.key`, 'ERR_POLICY_UNKNOWN_CONDITION', /selector/);
  rejects(cond({ key: 'destination.user', values: ['a'] }), `${W}.key`, 'ERR_POLICY_UNKNOWN_CONDITION');
  rejects(cond({ key: 'experimental.envoy.filters.a[b]', values: ['a'] }), `${W}.key`, 'ERR_POLICY_UNKNOWN_CONDITION', /not supported/);
  rejects(cond({ key: 'request.headers[]', values: ['a'] }), `${W}.key`, 'ERR_POLICY_UNKNOWN_CONDITION');
  rejects(cond({ key: 'request.headers', values: ['a'] }), `${W}.key`, 'ERR_POLICY_UNKNOWN_CONDITION');
  rejects(cond({ key: 'request.auth.claims[]', values: ['a'] }), `${W}.key`, 'ERR_POLICY_UNKNOWN_CONDITION');
  rejects(cond({ key: 'source.ip' }), W, 'ERR_POLICY_MISSING_FIELD', /values or notValues/);
  rejects(cond({ key: '', values: ['a'] }), `${W}.key`, 'ERR_POLICY_MISSING_FIELD');
  rejects(cond({ key: 'source.serviceAccount', values: ['a/b/c'] }), `${W}.values[0]`, 'ERR_POLICY_INVALID_FIELD');
});

test('legal but odd: principals and notPrincipals together, inner stars, paths without "/"', () => {
  const e = PolicyEngine.fromObjects([policy('p', source({ principals: ['a'], notPrincipals: ['a'] })), policy('q', operation({ paths: ['admin', '/a*b'] }))]);
  assert.equal(e.policies.length, 2);
});

test('a missing namespace defaults (with a warning)', () => {
  const e = PolicyEngine.fromYaml('apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: x}\nspec: {}\n', { defaultNamespace: 'team' });
  assert.equal(e.policies[0]!.id, 'team/x');
  assert.match(e.warnings[0]!.message, /using "team"/);
});
