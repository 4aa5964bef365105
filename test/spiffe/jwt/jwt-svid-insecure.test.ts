// parseInsecure: every rule but the signature. It is for a workload reading its
// own token from the Workload API, so it needs no bundle; header rules still
// apply, because a token we could never verify is not worth holding.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { JwtSvid } from '../../../src/spiffe/jwt/index.js';
import { AUD, NOW, NOW_DATE, SUB, assertRejects, b64url, claims, keys, signWith, token } from './helpers.js';

const at = { now: NOW_DATE };

test('parses a token without a bundle, even one signed by an unknown key', () => {
  const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const t = signWith('ES256', stranger.privateKey, { alg: 'ES256', kid: 'nobody-knows', typ: 'JWT' }, claims());
  const svid = JwtSvid.parseInsecure(t, AUD, at);
  assert.equal(svid.id.toString(), SUB);
  assert.equal(svid.marshal(), t);
  assert.deepEqual(svid.audience, [AUD]);
});

test('does not check the signature', () => {
  const [h, p] = token().split('.');
  assert.equal(JwtSvid.parseInsecure(`${h}.${p}.AAAA`, AUD, at).id.toString(), SUB);
});

test('still checks claims: aud, exp, nbf, sub', () => {
  const sign = (c: Record<string, unknown>) => signWith('ES256', keys.p256.privateKey, { alg: 'ES256', kid: 'p256' }, claims(c));
  assertRejects(() => JwtSvid.parseInsecure(sign({ aud: 'other' }), AUD, at), 'ERR_JWT_SVID_AUDIENCE_MISMATCH');
  assertRejects(() => JwtSvid.parseInsecure(sign({ aud: [] }), AUD, at), 'ERR_JWT_SVID_MISSING_AUD');
  assertRejects(() => JwtSvid.parseInsecure(sign({ exp: NOW - 60 }), AUD, at), 'ERR_JWT_SVID_EXPIRED');
  assertRejects(() => JwtSvid.parseInsecure(sign({ exp: undefined }), AUD, at), 'ERR_JWT_SVID_MISSING_EXP');
  assertRejects(() => JwtSvid.parseInsecure(sign({ nbf: NOW + 600 }), AUD, at), 'ERR_JWT_SVID_NOT_YET_VALID');
  assertRejects(() => JwtSvid.parseInsecure(sign({ sub: 'spiffe://example.org' }), AUD, at), 'ERR_JWT_SVID_BAD_SUBJECT');
  assert.ok(JwtSvid.parseInsecure(sign({ exp: NOW - 60 }), AUD, { now: NOW_DATE, leeway: 120 }));
});

test('still enforces header rules: alg allow-list, typ, forbidden headers', () => {
  const payload = b64url(JSON.stringify(claims()));
  for (const [header, code] of [
    [{ alg: 'none' }, 'ERR_JWT_SVID_UNSUPPORTED_ALG'],
    [{ alg: 'HS256', kid: 'p256' }, 'ERR_JWT_SVID_UNSUPPORTED_ALG'],
    [{ alg: 'EdDSA' }, 'ERR_JWT_SVID_UNSUPPORTED_ALG'],
    [{ alg: 'ES256', typ: 'at+jwt' }, 'ERR_JWT_SVID_BAD_TYP'],
    [{ alg: 'ES256', jku: 'https://evil' }, 'ERR_JWT_SVID_FORBIDDEN_HEADER'],
    [{ alg: 'ES256', crit: [] }, 'ERR_JWT_SVID_FORBIDDEN_HEADER'],
  ] as const) {
    assertRejects(() => JwtSvid.parseInsecure(`${b64url(JSON.stringify(header))}.${payload}.AAAA`, AUD, at), code);
  }
  // An allowed alg with an empty signature is malformed.
  assertRejects(() => JwtSvid.parseInsecure(`${b64url('{"alg":"ES256"}')}.${payload}.`, AUD, at), 'ERR_JWT_SVID_MALFORMED');
});

test('still enforces the shape rules', () => {
  assertRejects(() => JwtSvid.parseInsecure('a.b', AUD, at), 'ERR_JWT_SVID_MALFORMED');
  assertRejects(() => JwtSvid.parseInsecure('x'.repeat(20_000), AUD, at), 'ERR_JWT_SVID_TOO_LARGE');
});
