import { test } from 'node:test';
import assert from 'node:assert/strict';
import { engine, input, policy } from './helpers.js';
import type { RequestAttributes } from '../../src/policy/index.js';

/**
 * Every source/operation field and `when` key, in each match form: one ALLOW
 * policy with one rule; a request is allowed exactly when the rule matches.
 */
type Row = [name: string, rule: Record<string, unknown>, request: Partial<RequestAttributes>, matches: boolean];

const src = (source: Record<string, unknown>) => ({ from: [{ source }] });
const op = (operation: Record<string, unknown>) => ({ to: [{ operation }] });
const when = (key: string, values?: string[], notValues?: string[]) => ({ when: [{ key, ...(values ? { values } : {}), ...(notValues ? { notValues } : {}) }] });
const jwt = (claims: Record<string, unknown>) => ({ jwtClaims: claims });
const JWT = { iss: 'https://issuer.example.com', sub: 'alice@example.com', aud: ['api', 'web'], azp: 'cli', scope: 'read write', groups: ['dev', 'ops'], nested: { role: 'admin', level: 3 } };

const rows: Row[] = [
  // principals: exact, prefix, suffix, presence; plaintext has none
  ['principals exact', src({ principals: ['cluster.local/ns/bar/sa/sleep'] }), {}, true],
  ['principals exact miss', src({ principals: ['cluster.local/ns/bar/sa/other'] }), {}, false],
  ['principals prefix', src({ principals: ['cluster.local/ns/bar/*'] }), {}, true],
  ['principals suffix', src({ principals: ['*/sa/sleep'] }), {}, true],
  ['principals presence', src({ principals: ['*'] }), {}, true],
  ['principals presence, plaintext', src({ principals: ['*'] }), { principal: null }, false],
  ['principals from a spiffe:// id', src({ principals: ['cluster.local/ns/bar/sa/sleep'] }), { principal: 'spiffe://cluster.local/ns/bar/sa/sleep' }, true],
  ['principals written with spiffe:// never match', src({ principals: ['spiffe://cluster.local/ns/bar/sa/sleep'] }), {}, false],
  ['principals inner star is literal', src({ principals: ['cluster.local/ns/*/sa/sleep'] }), {}, false],
  ['principals non-workload spiffe id', src({ principals: ['cluster.local/billing/api'] }), { principal: 'spiffe://cluster.local/billing/api' }, true],
  ['notPrincipals excludes', src({ notPrincipals: ['cluster.local/ns/bar/sa/sleep'] }), {}, false],
  ['notPrincipals other', src({ notPrincipals: ['cluster.local/ns/bar/sa/other'] }), {}, true],
  ['notPrincipals * matches plaintext', src({ notPrincipals: ['*'] }), { principal: null }, true],
  ['notPrincipals * on mTLS', src({ notPrincipals: ['*'] }), {}, false],
  ['principals and notPrincipals are ANDed', src({ principals: ['cluster.local/ns/bar/*'], notPrincipals: ['*/sa/sleep'] }), {}, false],
  // requestPrincipals: split at the last "/"
  ['requestPrincipals exact', src({ requestPrincipals: ['https://issuer.example.com/alice@example.com'] }), jwt(JWT), true],
  ['requestPrincipals *', src({ requestPrincipals: ['*'] }), jwt(JWT), true],
  ['requestPrincipals * without JWT', src({ requestPrincipals: ['*'] }), {}, false],
  ['requestPrincipals iss/*', src({ requestPrincipals: ['https://issuer.example.com/*'] }), jwt(JWT), true],
  ['requestPrincipals */sub', src({ requestPrincipals: ['*/alice@example.com'] }), jwt(JWT), true],
  ['requestPrincipals *@example.com constrains sub', src({ requestPrincipals: ['*@example.com'] }), jwt(JWT), true],
  ['requestPrincipals *@example.com with other sub', src({ requestPrincipals: ['*@example.com'] }), jwt({ ...JWT, sub: 'bob@other.org' }), false],
  ['requestPrincipals wildcard crossing the split', src({ requestPrincipals: ['https://issuer.example.com*'] }), jwt(JWT), false],
  ['requestPrincipals no slash is iss with empty sub', src({ requestPrincipals: ['issuer'] }), jwt({ iss: 'issuer', sub: 'x' }), false],
  // an explicit requestPrincipal (the proxy's JWT-SVID SPIFFE ID) is split at its last "/" like a pattern
  ['requestPrincipal given: exact SPIFFE ID', src({ requestPrincipals: ['spiffe://example.org/ns/shop/sa/web'] }), { requestPrincipal: 'spiffe://example.org/ns/shop/sa/web' }, true],
  ['requestPrincipal given: other SPIFFE ID', src({ requestPrincipals: ['spiffe://example.org/ns/shop/sa/web'] }), { requestPrincipal: 'spiffe://example.org/ns/shop/sa/api' }, false],
  ['requestPrincipal given: last segment wildcard', src({ requestPrincipals: ['spiffe://example.org/ns/shop/sa/*'] }), { requestPrincipal: 'spiffe://example.org/ns/shop/sa/web' }, true],
  ['requestPrincipal given: wildcard never crosses the last /', src({ requestPrincipals: ['spiffe://example.org/*'] }), { requestPrincipal: 'spiffe://example.org/ns/shop/sa/web' }, false],
  ['requestPrincipal given: *', src({ requestPrincipals: ['*'] }), { requestPrincipal: 'spiffe://example.org/web' }, true],
  ['requestPrincipal given wins over claims', src({ requestPrincipals: ['https://issuer.example.com/alice@example.com'] }), { ...jwt(JWT), requestPrincipal: 'spiffe://example.org/web' }, false],
  ['requestPrincipal null: none, whatever the claims', src({ requestPrincipals: ['*'] }), { ...jwt(JWT), requestPrincipal: null }, false],
  ['request.auth.principal with a given requestPrincipal', when('request.auth.principal', ['spiffe://example.org/web']), { requestPrincipal: 'spiffe://example.org/web' }, true],
  ['notRequestPrincipals * without JWT', src({ notRequestPrincipals: ['*'] }), {}, true],
  ['notRequestPrincipals * with JWT', src({ notRequestPrincipals: ['*'] }), jwt(JWT), false],
  // namespaces
  ['namespaces exact', src({ namespaces: ['bar'] }), {}, true],
  ['namespaces prefix', src({ namespaces: ['ba*'] }), {}, true],
  ['namespaces miss', src({ namespaces: ['baz'] }), {}, false],
  ['namespaces plaintext', src({ namespaces: ['bar'] }), { principal: null, namespace: 'bar' }, false],
  ['namespaces from caller for non-k8s ids', src({ namespaces: ['billing'] }), { principal: 'spiffe://cluster.local/billing/api', namespace: 'billing' }, true],
  ['notNamespaces plaintext', src({ notNamespaces: ['bar'] }), { principal: null }, true],
  ['notNamespaces same', src({ notNamespaces: ['bar'] }), {}, false],
  // serviceAccounts (bare name = the policy's namespace)
  ['serviceAccounts ns/sa', src({ serviceAccounts: ['bar/sleep'] }), {}, true],
  ['serviceAccounts bare uses policy namespace', src({ serviceAccounts: ['sleep'] }), {}, false],
  ['serviceAccounts bare in policy namespace', src({ serviceAccounts: ['sleep'] }), { principal: 'cluster.local/ns/foo/sa/sleep' }, true],
  ['notServiceAccounts', src({ notServiceAccounts: ['bar/sleep'] }), {}, false],
  ['notServiceAccounts plaintext', src({ notServiceAccounts: ['bar/sleep'] }), { principal: null }, true],
  // trustDomains
  ['trustDomains exact', src({ trustDomains: ['cluster.local'] }), {}, true],
  ['trustDomains prefix', src({ trustDomains: ['cluster.*'] }), {}, true],
  ['trustDomains suffix', src({ trustDomains: ['*.local'] }), {}, true],
  ['trustDomains *', src({ trustDomains: ['*'] }), {}, true],
  ['trustDomains miss', src({ trustDomains: ['other.td'] }), {}, false],
  ['notTrustDomains', src({ notTrustDomains: ['cluster.local'] }), {}, false],
  // ipBlocks (direct peer) and remoteIpBlocks (original client)
  ['ipBlocks single', src({ ipBlocks: ['10.0.0.5'] }), {}, true],
  ['ipBlocks cidr', src({ ipBlocks: ['10.0.0.0/24'] }), {}, true],
  ['ipBlocks cidr with host bits', src({ ipBlocks: ['10.0.0.77/24'] }), {}, true],
  ['ipBlocks miss', src({ ipBlocks: ['10.0.1.0/24'] }), {}, false],
  ['ipBlocks ipv6', src({ ipBlocks: ['2001:db8::/32'] }), { sourceIp: '2001:db8::1' }, true],
  ['ipBlocks ipv4 never in ipv6 range', src({ ipBlocks: ['::/0'] }), {}, false],
  ['ipBlocks mapped ipv4 peer', src({ ipBlocks: ['10.0.0.0/8'] }), { sourceIp: '::ffff:10.0.0.5' }, true],
  ['ipBlocks missing ip', src({ ipBlocks: ['0.0.0.0/0'] }), { sourceIp: undefined }, false],
  ['notIpBlocks', src({ notIpBlocks: ['10.0.0.0/8'] }), {}, false],
  ['remoteIpBlocks defaults to sourceIp', src({ remoteIpBlocks: ['10.0.0.5'] }), {}, true],
  ['remoteIpBlocks uses remoteIp', src({ remoteIpBlocks: ['192.168.0.0/16'] }), { remoteIp: '192.168.1.1' }, true],
  ['ipBlocks ignores remoteIp', src({ ipBlocks: ['192.168.0.0/16'] }), { remoteIp: '192.168.1.1' }, false],
  ['notRemoteIpBlocks', src({ notRemoteIpBlocks: ['192.168.0.0/16'] }), { remoteIp: '192.168.1.1' }, false],
  // hosts: case-insensitive, default port and trailing dot dropped, other ports kept
  ['hosts exact', op({ hosts: ['httpbin.foo'] }), {}, true],
  ['hosts case-insensitive', op({ hosts: ['HttpBin.Foo'] }), { host: 'HTTPBIN.foo' }, true],
  ['hosts default port', op({ hosts: ['httpbin.foo'] }), { host: 'httpbin.foo:80' }, true],
  ['hosts trailing dot', op({ hosts: ['httpbin.foo'] }), { host: 'httpbin.foo.' }, true],
  ['hosts other port', op({ hosts: ['httpbin.foo'] }), { host: 'httpbin.foo:8080' }, false],
  ['hosts host:* for ports', op({ hosts: ['httpbin.foo:*'] }), { host: 'httpbin.foo:8080' }, true],
  ['hosts suffix', op({ hosts: ['*.foo'] }), {}, true],
  ['hosts from :authority header', op({ hosts: ['httpbin.foo'] }), { host: undefined, headers: { ':authority': 'httpbin.foo' } }, true],
  ['notHosts', op({ notHosts: ['httpbin.foo'] }), { host: 'HTTPBIN.FOO' }, false],
  // ports
  ['ports', op({ ports: ['8000'] }), {}, true],
  ['ports miss', op({ ports: ['9000'] }), {}, false],
  ['ports string port', op({ ports: ['8000'] }), { port: '8000' }, true],
  ['notPorts', op({ notPorts: ['8000'] }), {}, false],
  // methods: case-sensitive
  ['methods', op({ methods: ['GET', 'HEAD'] }), {}, true],
  ['methods prefix', op({ methods: ['G*'] }), {}, true],
  ['methods miss', op({ methods: ['POST'] }), {}, false],
  ['notMethods', op({ notMethods: ['GET'] }), {}, false],
  // paths: exact, prefix, suffix, presence, templates; query ignored
  ['paths exact', op({ paths: ['/status'] }), { path: '/status' }, true],
  ['paths exact ignores query', op({ paths: ['/status'] }), { path: '/status?x=1' }, true],
  ['paths exact with empty query', op({ paths: ['/status'] }), { path: '/status?' }, true],
  ['paths prefix', op({ paths: ['/api/*'] }), { path: '/api/v1/x' }, true],
  ['paths suffix', op({ paths: ['*/info'] }), { path: '/a/info' }, true],
  ['paths presence', op({ paths: ['*'] }), { path: '/' }, true],
  ['paths case-sensitive', op({ paths: ['/Admin'] }), { path: '/admin' }, false],
  ['paths no leading slash never matches', op({ paths: ['status'] }), { path: '/status' }, false],
  ['paths template {*}', op({ paths: ['/users/{*}/profile'] }), { path: '/users/42/profile' }, true],
  ['paths template {*} is one segment', op({ paths: ['/users/{*}/profile'] }), { path: '/users/4/2/profile' }, false],
  ['paths template {*} takes a star', op({ paths: ['/users/{*}'] }), { path: '/users/*' }, true],
  ['paths template {**}', op({ paths: ['/allow/admin/{**}'] }), { path: '/allow/admin/a/b' }, true],
  ['paths template {**} empty tail', op({ paths: ['/allow/admin/{**}'] }), { path: '/allow/admin/' }, true],
  ['paths template {**} needs the slash', op({ paths: ['/allow/admin/{**}'] }), { path: '/allow/admin' }, false],
  ['paths template {**} in the middle', op({ paths: ['/store/{**}/cart'] }), { path: '/store/a/b/cart' }, true],
  ['notPaths', op({ notPaths: ['/healthz'] }), { path: '/healthz' }, false],
  ['notPaths other', op({ notPaths: ['/healthz'] }), { path: '/x' }, true],
  // from/to entries are ORed, fields ANDed
  ['from entries ORed', { from: [{ source: { principals: ['x'] } }, { source: { namespaces: ['bar'] } }] }, {}, true],
  ['source fields ANDed', src({ principals: ['cluster.local/ns/bar/sa/sleep'], namespaces: ['other'] }), {}, false],
  ['to entries ORed', { to: [{ operation: { methods: ['POST'] } }, { operation: { paths: ['/'] } }] }, {}, true],
  ['from and to ANDed', { ...src({ namespaces: ['bar'] }), ...op({ methods: ['POST'] }) }, {}, false],
  // when keys
  ['when header', when('request.headers[X-Token]', ['abc']), { headers: { 'x-token': 'abc' } }, true],
  ['when header name case-insensitive', when('request.headers[x-token]', ['abc']), { headers: { 'X-TOKEN': 'abc' } }, true],
  ['when header value case-sensitive', when('request.headers[x-token]', ['abc']), { headers: { 'x-token': 'ABC' } }, false],
  ['when header repeated values joined', when('request.headers[x-role]', ['user,admin']), { headers: { 'x-role': ['user', 'admin'] } }, true],
  ['when header repeated: one value does not match alone', when('request.headers[x-role]', ['admin']), { headers: { 'x-role': ['user', 'admin'] } }, false],
  ['when header prefix', when('request.headers[x-token]', ['ab*']), { headers: { 'x-token': 'abc' } }, true],
  ['when header presence', when('request.headers[x-token]', ['*']), { headers: { 'x-token': 'abc' } }, true],
  ['when header presence: an empty header exists', when('request.headers[x-token]', ['*']), { headers: { 'x-token': '' } }, true],
  ['when header missing', when('request.headers[x-token]', ['abc']), {}, false],
  ['when header notValues missing header matches', when('request.headers[x-token]', undefined, ['admin']), {}, true],
  ['when header notValues', when('request.headers[x-token]', undefined, ['admin']), { headers: { 'x-token': 'admin' } }, false],
  ['when header values and notValues ANDed', when('request.headers[x-token]', ['a*'], ['admin']), { headers: { 'x-token': 'admin' } }, false],
  ['when :authority pseudo-header', when('request.headers[:authority]', ['httpbin.foo']), { host: 'HTTPBIN.FOO:80' }, true],
  ['when source.ip', when('source.ip', ['10.0.0.0/16']), {}, true],
  ['when remote.ip', when('remote.ip', ['1.2.3.4']), { remoteIp: '1.2.3.4' }, true],
  ['when source.namespace', when('source.namespace', ['bar']), {}, true],
  ['when source.principal', when('source.principal', ['*/sa/sleep']), {}, true],
  ['when source.principal notValues plaintext', when('source.principal', undefined, ['*']), { principal: null }, true],
  ['when source.serviceAccount', when('source.serviceAccount', ['bar/sleep']), {}, true],
  ['when source.trustDomain', when('source.trustDomain', ['cluster.local']), {}, true],
  ['when request.auth.principal', when('request.auth.principal', ['https://issuer.example.com/*']), jwt(JWT), true],
  ['when request.auth.audiences in list', when('request.auth.audiences', ['web']), jwt(JWT), true],
  ['when request.auth.audiences string', when('request.auth.audiences', ['api']), jwt({ ...JWT, aud: 'api' }), true],
  ['when request.auth.presenter', when('request.auth.presenter', ['cli']), jwt(JWT), true],
  ['when claims string', when('request.auth.claims[iss]', ['https://issuer.example.com']), jwt(JWT), true],
  ['when claims list', when('request.auth.claims[groups]', ['ops']), jwt(JWT), true],
  ['when claims nested', when('request.auth.claims[nested][role]', ['admin']), jwt(JWT), true],
  ['when claims number never matches', when('request.auth.claims[nested][level]', ['3']), jwt(JWT), false],
  ['when claims scope split on spaces', when('request.auth.claims[scope]', ['write']), jwt(JWT), true],
  ['when claims without JWT', when('request.auth.claims[groups]', ['ops']), {}, false],
  ['when claims notValues without JWT', when('request.auth.claims[groups]', undefined, ['ops']), {}, true],
  ['when destination.ip', when('destination.ip', ['10.0.1.0/24']), {}, true],
  ['when destination.port', when('destination.port', ['8000']), {}, true],
  ['when destination.port miss', when('destination.port', ['8001']), {}, false],
  ['when connection.sni', when('connection.sni', ['*.foo.svc']), { sni: 'httpbin.foo.svc' }, true],
  ['when connection.sni missing', when('connection.sni', ['*']), {}, false],
  ['when conditions ANDed', { when: [{ key: 'source.namespace', values: ['bar'] }, { key: 'destination.port', values: ['1'] }] }, {}, false],
];

for (const [name, rule, req, matches] of rows) {
  test(`field table: ${name}`, () => {
    const e = engine([policy('p', { rules: [rule] })]);
    const d = e.evaluate(input(req));
    assert.equal(d.allowed, matches, d.reason);
    if (matches) assert.deepEqual([d.policy, d.rule], ['foo/p', 0]);
  });
}

test('a DENY policy mirrors the table: it denies exactly what its rule matches', () => {
  for (const [name, rule, req, matches] of rows) {
    const e = engine([policy('d', { action: 'DENY', rules: [rule] })]);
    const d = e.evaluate(input(req));
    assert.equal(d.allowed, !matches, `${name}: ${d.reason}`);
  }
});

test('a request principal holding a line break is refused before matching (400), under ALLOW and DENY alike', () => {
  for (const action of ['ALLOW', 'DENY']) {
    const e = engine([policy('p', { action, rules: [src({ requestPrincipals: ['*'] })] })]);
    const d = e.evaluate(input({ requestPrincipal: 'spiffe://example.org/a\nb' }));
    assert.equal(d.allowed, false);
    assert.equal(d.reject?.status, 400);
  }
});

test('trust-domain aliases: cluster.local and aliases stand for the local trust domain', () => {
  const rule = src({ principals: ['cluster.local/ns/bar/sa/sleep'] });
  const e = engine([policy('p', { rules: [rule] })], { trustDomain: 'prod.example', trustDomainAliases: ['old.example'] });
  assert.equal(e.evaluate(input({ principal: 'prod.example/ns/bar/sa/sleep' })).allowed, true);
  assert.equal(e.evaluate(input({ principal: 'old.example/ns/bar/sa/sleep' })).allowed, true);
  assert.equal(e.evaluate(input({ principal: 'evil.example/ns/bar/sa/sleep' })).allowed, false);
  const foreign = engine([policy('p', { rules: [src({ principals: ['partner.example/ns/bar/sa/sleep'] })] })], { trustDomain: 'prod.example' });
  assert.equal(foreign.evaluate(input({ principal: 'prod.example/ns/bar/sa/sleep' })).allowed, false);
  assert.equal(foreign.evaluate(input({ principal: 'partner.example/ns/bar/sa/sleep' })).allowed, true);
});
