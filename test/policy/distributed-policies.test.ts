import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DistributedPolicies } from '../../src/policy/index.js';

const allowWeb = `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: allow-web, namespace: prod }
spec:
  action: ALLOW
  rules:
  - from: [{ source: { principals: ["example.org/ns/prod/sa/web"] } }]
`;

const invalid = `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: broken, namespace: prod }
spec:
  action: ALLOW
  rules:
  - from: [{ source: { ipBlocks: ["10.0.0.0/99"] } }]
`;

const request = (principal: string) => ({
  workload: { namespace: 'prod', labels: {} },
  request: { principal, namespace: 'prod', method: 'GET', path: '/', host: 'api', port: 8080, headers: {}, sourceIp: '10.0.0.1', destinationIp: '10.0.0.2', jwtClaims: null, protocol: 'HTTP' as const },
});

test('before any policy set arrives, everything is denied', () => {
  const policies = new DistributedPolicies();
  const decision = policies.evaluate(request('example.org/ns/prod/sa/web'));
  assert.equal(decision.allowed, false);
  assert.match(decision.reason, /fail closed: no policy set/);
});

test('a valid set is enforced as is', () => {
  const policies = new DistributedPolicies();
  assert.deepEqual(policies.apply(allowWeb, '1'), { status: 'enforcing', revision: '1' });
  assert.equal(policies.evaluate(request('example.org/ns/prod/sa/web')).allowed, true);
  assert.equal(policies.evaluate(request('example.org/ns/prod/sa/other')).allowed, false);
});

test('an invalid set received anyway fails closed, even for requests the previous set allowed; a valid set recovers', () => {
  const policies = new DistributedPolicies();
  policies.apply(allowWeb, '1');
  const state = policies.apply(invalid, '2');
  assert.equal(state.status, 'failed-closed');
  const denied = policies.evaluate(request('example.org/ns/prod/sa/web'));
  assert.equal(denied.allowed, false);
  assert.match(denied.reason, /fail closed: the policy set of revision 2 is invalid/);
  assert.match(denied.reason, /ipBlocks/);
  policies.apply(allowWeb, '3');
  assert.equal(policies.evaluate(request('example.org/ns/prod/sa/web')).allowed, true);
});
