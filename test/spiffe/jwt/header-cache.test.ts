// The parsed-header cache is an optimisation only: it must never change a verdict.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JwtSvid } from '../../../src/spiffe/jwt/index.js';
import { parseHeader } from '../../../src/spiffe/jwt/header.js';
import { AUD, NOW_DATE, assertRejects, b64url, bundle, claims, keys, signWith, token } from './helpers.js';

const at = { now: NOW_DATE };

test('a cached header gives the same result object on a repeat', () => {
  const segment = b64url(JSON.stringify({ alg: 'ES256', kid: 'p256', typ: 'JWT' }));
  assert.equal(parseHeader(segment), parseHeader(segment));
  assert.ok(Object.isFrozen(parseHeader(segment)));
});

test('a refused header stays refused on every attempt', () => {
  const t = signWith('ES256', keys.p256.privateKey, { alg: 'ES256', kid: 'p256', jku: 'https://evil' }, claims());
  for (let i = 0; i < 3; i++) assertRejects(() => JwtSvid.parseAndValidate(t, bundle, AUD, at), 'ERR_JWT_SVID_FORBIDDEN_HEADER', t);
});

test('a flood of distinct headers churns the cache without changing verdicts', () => {
  const good = token('ES384');
  assert.ok(JwtSvid.parseAndValidate(good, bundle, AUD, at));
  for (let i = 0; i < 1000; i++) {
    const t = signWith('ES256', keys.p256.privateKey, { alg: 'ES256', kid: `flood-${i}` }, claims());
    assertRejects(() => JwtSvid.parseAndValidate(t, bundle, AUD, at), 'ERR_JWT_SVID_UNKNOWN_KEY_ID');
  }
  assert.ok(JwtSvid.parseAndValidate(good, bundle, AUD, at));
  const longHeader = signWith('ES256', keys.p256.privateKey, { alg: 'ES256', kid: 'p256'.padEnd(2000, ' ') }, claims());
  assertRejects(() => JwtSvid.parseAndValidate(longHeader, bundle, AUD, at), 'ERR_JWT_SVID_UNKNOWN_KEY_ID');
});
