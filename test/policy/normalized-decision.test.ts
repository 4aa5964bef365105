import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PolicyEngine } from '../../src/policy/index.js';

const engine = PolicyEngine.fromYaml(`
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: public, namespace: prod }
spec:
  action: ALLOW
  rules:
  - to: [{ operation: { paths: ["/public/*"] } }]
`);

const input = (path: string) => ({ workload: { namespace: 'prod' }, request: { principal: null, method: 'GET', path, host: 'api', port: 8080, headers: {}, sourceIp: '10.0.0.1' } });

test('a decision carries the path it matched and the path to forward, equal to normalize()', () => {
  for (const path of ['/public/a?x=1', '/public/../admin', '//public//a#frag', '/public/%61']) {
    const decision = engine.evaluate(input(path));
    const n = engine.normalize(input(path).request);
    assert.ok(n.ok);
    assert.deepEqual(decision.normalized, { path: n.path, forwardPath: n.forwardPath }, path);
  }
  const bypass = engine.evaluate(input('/public/../admin'));
  assert.equal(bypass.allowed, false);
  assert.equal(bypass.normalized?.forwardPath, '/admin');
});

test('a request refused before matching carries no normalized path', () => {
  const decision = engine.evaluate(input('/a%00b'));
  assert.ok(decision.reject);
  assert.equal(decision.normalized, undefined);
});
