import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeHost, normalizePath } from '../../src/policy/index.js';
import { engine, input, policy } from './helpers.js';

/** SECURITY-CASES §3 (39–57): each bypass attempt against the rule it tries to slip past. */

const allowPublic = () => engine([policy('public', { rules: [{ to: [{ operation: { paths: ['/public/*'] } }] }] })]);
const denyAdmin = (paths = ['/admin', '/admin/*'], options = {}) => engine([policy('deny-admin', { action: 'DENY', rules: [{ to: [{ operation: { paths } }] }] })], options);

test('39: /public/../admin does not match ALLOW /public/*; it is matched (and forwarded) as /admin', () => {
  const d = allowPublic().evaluate(input({ path: '/public/../admin' }));
  assert.equal(d.allowed, false);
  assert.deepEqual(allowPublic().normalize({ path: '/public/../admin' }), { ok: true, path: '/admin', forwardPath: '/admin', host: undefined, method: undefined });
});

test('39: /public/%2E%2E/private and %2e%2e are decoded once and resolved', () => {
  for (const path of ['/public/%2E%2E/private', '/public/%2e%2e/private', '/public/.%2e/private']) {
    assert.equal(allowPublic().evaluate(input({ path })).allowed, false, path);
  }
  assert.deepEqual(normalizePath('/public/%2e%2e/admin'), normalizePath('/admin'));
});

test('40: //admin is merged and denied', () => {
  const d = denyAdmin().evaluate(input({ path: '//admin' }));
  assert.deepEqual([d.allowed, d.policy], [false, 'foo/deny-admin']);
  assert.equal(denyAdmin().evaluate(input({ path: '/x//..//admin' })).allowed, false);
});

test('41: %2F and %5C are refused by default (400)', () => {
  for (const path of ['/x%2F..%2Fadmin', '/x%5C..%5Cadmin', '/admin%2f', '/x%5c']) {
    const d = denyAdmin().evaluate(input({ path }));
    assert.equal(d.allowed, false, path);
    assert.equal(d.reject?.status, 400, path);
  }
});

test('41: escapedSlashes "decode" decodes %2F and %5C, then normalizes', () => {
  const e = denyAdmin(undefined, { escapedSlashes: 'decode' });
  for (const path of ['/x%2F..%2Fadmin', '/x%5C..%5Cadmin']) {
    const d = e.evaluate(input({ path }));
    assert.deepEqual([d.allowed, d.policy, d.reject], [false, 'foo/deny-admin', undefined], path);
  }
  assert.equal(e.normalize({ path: '/a%2Fb' }).ok && (e.normalize({ path: '/a%2Fb' }) as { path: string }).path, '/a/b');
});

test('42: a #fragment is stripped before matching (DENY suffix /admin)', () => {
  const e = denyAdmin(['*/admin']);
  assert.equal(e.evaluate(input({ path: '/app1/admin#foo' })).allowed, false);
  assert.deepEqual(normalizePath('/a/admin#x?y'), { ok: true, path: '/a/admin', query: null, forward: '/a/admin' });
});

test('43: ;params are refused by default; "strip" removes them per segment before resolving dots', () => {
  for (const path of ['/user/..;x=y/admin', '/admin;jsessionid=1']) {
    assert.equal(denyAdmin().evaluate(input({ path })).reject?.status, 400, path);
    const strip = denyAdmin(undefined, { pathParameters: 'strip' });
    const d = strip.evaluate(input({ path }));
    assert.deepEqual([d.allowed, d.policy], [false, 'foo/deny-admin'], path);
  }
  assert.deepEqual(normalizePath('/a;v=1/b;x', { pathParameters: 'strip' }), { ok: true, path: '/a/b', query: null, forward: '/a/b' });
});

test('44: unreserved characters are decoded exactly once; %252F stays encoded', () => {
  assert.equal(denyAdmin().evaluate(input({ path: '/%61dmin' })).allowed, false);
  assert.equal(denyAdmin().evaluate(input({ path: '/%2e%2e/admin' })).allowed, false);
  const twice = normalizePath('/%252Fadmin');
  assert.deepEqual(twice, { ok: true, path: '/%252Fadmin', query: null, forward: '/%252Fadmin' });
  assert.equal(denyAdmin().evaluate(input({ path: '/%252Fadmin' })).policy, undefined);
  assert.deepEqual(normalizePath('/a%3bb%7e'), { ok: true, path: '/a%3Bb~', query: null, forward: '/a%3Bb~' });
});

test('45: %00, a raw NUL and NUL in a header value are refused with 400', () => {
  for (const req of [{ path: '/a%00b' }, { path: '/a\u0000b' }, { headers: { 'x-a': 'v\u0000' } }, { headers: { 'x-a': ['ok', 'a\r\nb'] } }]) {
    const d = allowPublic().evaluate(input(req));
    assert.deepEqual([d.allowed, d.reject?.status], [false, 400], JSON.stringify(req));
  }
});

test('46: the query is ignored for matching and kept for forwarding', () => {
  const e = denyAdmin(['/admin']);
  assert.equal(e.evaluate(input({ path: '/admin?x=1' })).allowed, false);
  assert.equal(e.evaluate(input({ path: '/admin?' })).allowed, false);
  assert.deepEqual(normalizePath('/a/../admin?x=1#f'), { ok: true, path: '/admin', query: 'x=1', forward: '/admin?x=1' });
});

test('47: host case, default port and trailing dot are canonical on both sides', () => {
  const e = engine([policy('d', { action: 'DENY', rules: [{ to: [{ operation: { hosts: ['httpbin.foo'] } }] }] })]);
  for (const host of ['HttpBin.Foo', 'httpbin.foo:80', 'httpbin.foo:443', 'httpbin.foo.', 'HTTPBIN.FOO.:80']) {
    assert.equal(e.evaluate(input({ host })).allowed, false, host);
  }
  assert.equal(e.evaluate(input({ host: 'httpbin.foo:8080' })).allowed, true);
  assert.equal(normalizeHost('[::1]:80'), '[::1]');
  assert.equal(normalizeHost('[::1]:9000'), '[::1]:9000');
});

test('49: a lower-case method is refused (400) by default; with methodCase "exact" it never matches an upper-case rule', () => {
  const deny = engine([policy('d', { action: 'DENY', rules: [{ to: [{ operation: { methods: ['DELETE'] } }] }] })]);
  for (const method of ['delete', 'Delete']) {
    const d = deny.evaluate(input({ method }));
    assert.deepEqual([d.allowed, d.reject?.status], [false, 400], method);
  }
  const allow = engine([policy('a', { rules: [{ to: [{ operation: { methods: ['GET'] } }] }] })], { methodCase: 'exact' });
  assert.equal(allow.evaluate(input({ method: 'get' })).allowed, false);
  assert.equal(allow.evaluate(input({ method: 'GET' })).allowed, true);
  assert.equal(deny.evaluate(input({ method: 'GET /' })).reject?.status, 400);
});

test('50: repeated headers are all seen, joined with ","', () => {
  const e = engine([policy('d', { action: 'DENY', rules: [{ when: [{ key: 'request.headers[x-role]', values: ['*admin'] }] }] })]);
  assert.equal(e.evaluate(input({ headers: { 'x-role': ['user', 'admin'] } })).allowed, false);
  assert.equal(e.evaluate(input({ headers: { 'X-Role': 'user', 'x-role': 'admin' } })).allowed, false);
});

test('52: a DENY on paths cannot be bypassed by any trick above', () => {
  const e = denyAdmin(['/admin*'], { escapedSlashes: 'decode', pathParameters: 'strip' });
  const tricks = ['/admin', '//admin', '/./admin', '/x/../admin', '/%61dmin', '/%2e%2e/admin', '/x%2F..%2Fadmin', '/x%5C..%5Cadmin', '/admin#x', '/admin?x', '/admin;x', '/x/..;y/admin', '\\admin'.replace('\\', '/\\'), '/ADMIN'.toLowerCase()];
  for (const path of tricks) assert.equal(e.evaluate(input({ path })).allowed, false, path);
});

test('56: a path containing "*" still matches a {*} template in a DENY', () => {
  const e = engine([policy('d', { action: 'DENY', rules: [{ to: [{ operation: { paths: ['/users/{*}/admin'] } }] }] })]);
  assert.equal(e.evaluate(input({ path: '/users/*/admin' })).allowed, false);
});

test('paths that are not origin-form, or hold controls or bad escapes, are refused', () => {
  for (const path of ['admin', 'http://x/admin', '', '/a b', '/a%zz', '/a%4', '/a\tb']) {
    const n = normalizePath(path);
    assert.equal(n.ok, false, JSON.stringify(path));
  }
});

test('backslashes become slashes; dot segments at the end keep a trailing slash', () => {
  assert.equal((normalizePath('/a\\b\\..\\c') as { path: string }).path, '/a/c');
  assert.equal((normalizePath('/a/b/..') as { path: string }).path, '/a/');
  assert.equal((normalizePath('/..') as { path: string }).path, '/');
  assert.equal((normalizePath('/a//b', { mergeSlashes: false }) as { path: string }).path, '/a//b');
});
