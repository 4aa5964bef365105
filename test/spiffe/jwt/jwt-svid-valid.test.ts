import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { Bundle } from '../../../src/spiffe/bundle.js';
import { JwtSvid } from '../../../src/spiffe/jwt/index.js';
import { AUD, KEY_FOR, NOW, NOW_DATE, SUB, TD, bundle, bundles, claims, keys, signWith, token, type Alg } from './helpers.js';

const ALGS: Alg[] = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'];
const at = { now: NOW_DATE };

for (const alg of ALGS) {
  test(`accepts a valid ${alg} token`, () => {
    const t = token(alg);
    const svid = JwtSvid.parseAndValidate(t, bundle, AUD, at);
    assert.equal(svid.id.toString(), SUB);
    assert.deepEqual(svid.audience, [AUD]);
    assert.equal(svid.expiresAt.getTime(), (NOW + 300) * 1000);
    assert.equal(svid.marshal(), t);
    assert.equal(svid.claims.sub, SUB);
  });

  test(`accepts a valid ${alg} token without kid, trying the bundle's keys that fit`, () => {
    const { pair } = KEY_FOR[alg];
    const t = signWith(alg, pair.privateKey, { alg, typ: 'JWT' }, claims());
    assert.equal(JwtSvid.parseAndValidate(t, bundle, AUD, at).id.toString(), SUB);
  });
}

test('accepts typ JWT, JOSE or absent', () => {
  for (const typ of ['JWT', 'JOSE', undefined]) {
    const t = signWith('ES256', keys.p256.privateKey, { alg: 'ES256', kid: 'p256', typ }, claims());
    assert.equal(JwtSvid.parseAndValidate(t, bundle, AUD, at).id.toString(), SUB);
  }
});

test('without kid, finds the signing key when it is not the first that fits', () => {
  const decoys = [0, 1, 2].map(() => generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey);
  const many = new Bundle(TD, {
    jwtAuthorities: [
      { keyId: 'rsa', publicKey: keys.rsa.publicKey },
      ...decoys.map((publicKey, i) => ({ keyId: `decoy-${i}`, publicKey })),
      { keyId: 'p384', publicKey: keys.p384.publicKey },
      { keyId: 'real', publicKey: keys.p256.publicKey },
    ],
  });
  const t = signWith('ES256', keys.p256.privateKey, { alg: 'ES256' }, claims());
  assert.equal(JwtSvid.parseAndValidate(t, many, AUD, at).id.toString(), SUB);
});

test('accepts aud as a string', () => {
  const svid = JwtSvid.parseAndValidate(token('ES256', { claims: { aud: AUD } }), bundle, AUD, at);
  assert.deepEqual(svid.audience, [AUD]);
});

test('accepts aud as an array holding other audiences too', () => {
  const svid = JwtSvid.parseAndValidate(token('ES256', { claims: { aud: ['a', AUD, 'b'] } }), bundle, AUD, at);
  assert.deepEqual(svid.audience, ['a', AUD, 'b']);
});

test('accepts when any one of several expected audiences is named', () => {
  const svid = JwtSvid.parseAndValidate(token('ES256', { claims: { aud: 'reports' } }), bundle, ['billing', 'reports'], at);
  assert.deepEqual(svid.audience, ['reports']);
});

test('accepts through a BundleSet, choosing the bundle by the subject trust domain', () => {
  assert.equal(JwtSvid.parseAndValidate(token('ES384'), bundles, AUD, at).id.toString(), SUB);
  const other = signWith('ES256', keys.p256b.privateKey, { alg: 'ES256', kid: 'other' }, claims({ sub: 'spiffe://other.example/svc' }));
  assert.equal(JwtSvid.parseAndValidate(other, bundles, AUD, at).id.trustDomain.name, 'other.example');
});

test('keeps private and extra claims, deeply frozen', () => {
  const svid = JwtSvid.parseAndValidate(token('ES256', { claims: { iss: 'me', jti: 'x', ext: { a: [1, { b: 2 }] } } }), bundle, AUD, at);
  assert.equal(svid.claims.iss, 'me');
  assert.ok(Object.isFrozen(svid.claims));
  assert.ok(Object.isFrozen((svid.claims.ext as { a: unknown[] }).a[1]));
  assert.ok(Object.isFrozen(svid.audience));
  assert.throws(() => {
    (svid.claims as Record<string, unknown>).sub = 'spiffe://evil/x';
  }, TypeError);
});

test('expiresAt is a fresh Date each time', () => {
  const svid = JwtSvid.parseAndValidate(token(), bundle, AUD, at);
  svid.expiresAt.setTime(0);
  assert.equal(svid.expiresAt.getTime(), (NOW + 300) * 1000);
});

test('keeps the hint', () => {
  assert.equal(JwtSvid.parseAndValidate(token(), bundle, AUD, { ...at, hint: 'internal' }).hint, 'internal');
  assert.equal(JwtSvid.parseAndValidate(token(), bundle, AUD, at).hint, undefined);
});

test('a token signed with jose SignJWT validates', async () => {
  const { SignJWT } = await import('jose');
  const t = await new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid: 'p256', typ: 'JWT' })
    .setSubject(SUB)
    .setAudience([AUD])
    .setIssuedAt(NOW)
    .setExpirationTime(NOW + 60)
    .sign(keys.p256.privateKey);
  assert.equal(JwtSvid.parseAndValidate(t, bundle, AUD, at).id.toString(), SUB);
});

test('the current clock is used without a now option', () => {
  const now = Math.floor(Date.now() / 1000);
  const t = token('ES256', { claims: { iat: now, exp: now + 60 } });
  assert.equal(JwtSvid.parseAndValidate(t, bundle, AUD).id.toString(), SUB);
});
