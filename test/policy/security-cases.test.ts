import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PolicyEngine, PolicyError } from '../../src/policy/index.js';
import { engine, input, policy } from './helpers.js';

/**
 * SECURITY-CASES §3 items not covered in normalization.test.ts (39–47, 49,
 * 50, 52, 56 live there; 53 in decisions.test.ts as well).
 */

test('SECURITY-CASES 48: the engine has no scheme attribute; an odd-case scheme header cannot change a decision', () => {
  const e = engine([policy('d', { action: 'DENY', rules: [{ to: [{ operation: { paths: ['/admin'] } }] }] })]);
  assert.equal(e.evaluate(input({ path: '/admin', headers: { ':scheme': 'HtTpS' } })).allowed, false);
});

test('SECURITY-CASES 51: identity comes only from the principal field, never from headers', () => {
  const e = engine([policy('a', { rules: [{ from: [{ source: { principals: ['cluster.local/ns/admin/sa/root'] } }] }] })]);
  const spoofed = { 'x-spiffe-id': 'spiffe://cluster.local/ns/admin/sa/root', 'x-forwarded-client-cert': 'URI=spiffe://cluster.local/ns/admin/sa/root' };
  assert.equal(e.evaluate(input({ principal: null, headers: spoofed })).allowed, false);
  assert.equal(e.evaluate(input({ principal: 'cluster.local/ns/bar/sa/sleep', headers: spoofed })).allowed, false);
});

test('SECURITY-CASES 53: TCP traffic to a port governed by HTTP-only rules: ALLOW fails closed, DENY denies the port', () => {
  const allow = engine([policy('a', { rules: [{ to: [{ operation: { methods: ['GET'], paths: ['/x'] } }] }] })]);
  assert.equal(allow.evaluate(input({ protocol: 'TCP' })).allowed, false);
  const deny = engine([policy('d', { action: 'DENY', rules: [{ to: [{ operation: { methods: ['GET'], paths: ['/x'] } }] }] })]);
  assert.equal(deny.evaluate(input({ protocol: 'TCP' })).allowed, false);
});

test('SECURITY-CASES 54: a field the engine does not know is refused, never dropped', () => {
  const future = policy('p', { rules: [{ to: [{ operation: { paths: ['/x'], pathRegex: ['.*'] } }] }] });
  assert.throws(() => PolicyEngine.fromObjects([future]), (e: unknown) => e instanceof PolicyError && e.issues[0]!.code === 'ERR_POLICY_UNKNOWN_FIELD' && e.issues[0]!.path === 'spec.rules[0].to[0].operation.pathRegex');
  const futureKey = policy('p', { action: 'DENY', rules: [{ when: [{ key: 'request.experimental.thing', values: ['x'] }] }] });
  assert.throws(() => PolicyEngine.fromObjects([futureKey]), (e: unknown) => e instanceof PolicyError && e.issues[0]!.code === 'ERR_POLICY_UNKNOWN_CONDITION');
});

test('SECURITY-CASES 55: a failing external authorizer denies (fail closed), with every header value passed on', () => {
  let seen: unknown;
  const e = engine([policy('c', { action: 'CUSTOM', provider: { name: 'ext' }, rules: [{}] })], {
    providers: { ext: { check: (c) => { seen = c.input.request.headers; throw new Error('invalid request'); } } },
  });
  const d = e.evaluate(input({ headers: { 'x-role': ['user', 'admin'], 'x-bin': '\u00ff\u00fe' } }));
  assert.equal(d.allowed, false);
  assert.deepEqual(seen, { 'x-role': ['user', 'admin'], 'x-bin': '\u00ff\u00fe' });
});

test('SECURITY-CASES 14/57: a principal holding NUL, CR or LF is refused, not matched by prefix', () => {
  const e = engine([policy('a', { rules: [{ from: [{ source: { principals: ['cluster.local/ns/a/sa/victim*'] } }] }] })]);
  for (const principal of ['cluster.local/ns/a/sa/victim\u0000evil', 'cluster.local/ns/a/sa/victim\r\nx-admin: 1']) {
    const d = e.evaluate(input({ principal }));
    assert.deepEqual([d.allowed, d.reject?.status], [false, 400]);
  }
});
