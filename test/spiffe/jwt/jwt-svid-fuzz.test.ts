// Property tests: whatever comes in, the only thing that comes out is a
// JwtSvid that satisfies every rule, or a JwtSvidError.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { JwtSvid, JwtSvidError, JWT_SVID_ALGORITHMS } from '../../../src/spiffe/jwt/index.js';
import { isFlatObjectWithoutDuplicates } from '../../../src/spiffe/jwt/json-segment.js';
import { DuplicateMemberError, parseStrictJson } from '../../../src/spiffe/strict-json.js';
import { AUD, NOW, NOW_DATE, b64url, bundle, keys, signWith, token } from './helpers.js';

const at = { now: NOW_DATE };

/** Runs validation; returns the SVID, or null after checking the error is a JwtSvidError. */
function attempt(t: string): JwtSvid | null {
  try {
    return JwtSvid.parseAndValidate(t, bundle, AUD, at);
  } catch (err) {
    if (!(err instanceof JwtSvidError)) throw err;
    assert.ok(!err.message.includes(t) || t.length < 8, 'error message holds the token');
    return null;
  }
}

test('random strings only ever produce JwtSvidError', () => {
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary' }), fc.stringMatching(/^[A-Za-z0-9_\-.=+/]{0,300}$/)), (t) => {
      assert.equal(attempt(t), null);
    }),
    { numRuns: 2000 },
  );
});

test('random three-part base64url tokens only ever produce JwtSvidError', () => {
  const segment = fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes).toString('base64url'));
  const jsonSegment = fc.jsonValue().map((v) => b64url(JSON.stringify(v)));
  fc.assert(
    fc.property(fc.oneof(segment, jsonSegment), fc.oneof(segment, jsonSegment), segment, (h, p, s) => {
      assert.equal(attempt(`${h}.${p}.${s}`), null);
    }),
    { numRuns: 2000 },
  );
});

test('any mutation of a valid token is refused', () => {
  const valid = [token('ES256'), token('RS256'), token('PS256'), token('ES384')];
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ {}"';
  fc.assert(
    fc.property(
      fc.constantFrom(...valid),
      fc.array(fc.tuple(fc.constantFrom('replace', 'insert', 'delete'), fc.nat(), fc.constantFrom(...alphabet)), { minLength: 1, maxLength: 4 }),
      (original, edits) => {
        let t = original;
        for (const [kind, at0, ch] of edits) {
          const i = at0 % (t.length + 1);
          if (kind === 'replace' && i < t.length) t = t.slice(0, i) + ch + t.slice(i + 1);
          else if (kind === 'insert') t = t.slice(0, i) + ch + t.slice(i);
          else if (kind === 'delete' && i < t.length) t = t.slice(0, i) + t.slice(i + 1);
        }
        const svid = attempt(t);
        if (t !== original) assert.equal(svid, null, 'a mutated token was accepted');
      },
    ),
    { numRuns: 3000 },
  );
});

test('validly signed random headers and claims: accepted only when every rule holds', () => {
  const header = fc.record(
    {
      alg: fc.constantFrom('ES256', 'ES384', 'none', 'HS256', 'RS256', 'EdDSA'),
      kid: fc.constantFrom('p256', 'p384', 'rsa', 'nope', '', 5),
      typ: fc.constantFrom('JWT', 'JOSE', 'at+jwt', 'jwt', null),
      jku: fc.constant('https://evil'),
      crit: fc.constant([]),
    },
    { requiredKeys: [] },
  );
  const claimsArb = fc.record(
    {
      sub: fc.constantFrom('spiffe://example.org/w', 'spiffe://example.org', 'spiffe://other.example/w', 'x', 7),
      aud: fc.oneof(fc.constantFrom(AUD, 'other', 5), fc.array(fc.constantFrom(AUD, 'other', 5), { maxLength: 3 })),
      exp: fc.oneof(fc.integer({ min: NOW - 100, max: NOW + 100 }), fc.constantFrom('soon', null, 1e308)),
      nbf: fc.integer({ min: NOW - 100, max: NOW + 100 }),
      iat: fc.oneof(fc.integer({ min: NOW - 100, max: NOW + 100 }), fc.constant('x')),
      extra: fc.jsonValue(),
    },
    { requiredKeys: [] },
  );
  fc.assert(
    fc.property(header, claimsArb, fc.constantFrom('ES256', 'ES384', 'RS256'), (h, c, signAlg) => {
      const key = signAlg === 'ES256' ? keys.p256 : signAlg === 'ES384' ? keys.p384 : keys.rsa;
      const t = signWith(signAlg, key.privateKey, h, c);
      const svid = attempt(t);
      if (svid === null) return;
      // Accepted: check every rule independently.
      assert.ok((JWT_SVID_ALGORITHMS as readonly string[]).includes(h.alg as string));
      assert.equal(h.alg, signAlg);
      assert.ok(h.typ === undefined || h.typ === 'JWT' || h.typ === 'JOSE');
      assert.ok(!('jku' in h) && !('crit' in h));
      assert.equal(svid.id.trustDomain.name, 'example.org');
      assert.notEqual(svid.id.path, '');
      assert.ok(svid.audience.includes(AUD));
      assert.ok(typeof c.exp === 'number' && c.exp > NOW - 30);
      assert.doesNotThrow(() => JSON.stringify(svid));
      assert.ok(c.nbf === undefined || c.nbf <= NOW + 30);
      assert.ok(c.iat === undefined || (typeof c.iat === 'number' && c.iat <= NOW + 30));
    }),
    { numRuns: 1500 },
  );
});

test('the flat-object fast path never passes a document the strict parser refuses', () => {
  const key = fc.constantFrom('a', 'b', 'sub', 'aud', '\\u0061', 'a\\"b', '__proto__', '', '{', '}');
  const value = fc.oneof(
    fc.jsonValue().map((v) => JSON.stringify(v)),
    fc.constantFrom('"x,\\"y\\":1"', '"{\\"a\\":1}"', '["{", "}", ","]', '[[1,2],{"a":1,"a":2}]', '{}'),
  );
  const document = fc.array(fc.tuple(key, value), { maxLength: 8 }).map((members) => `{${members.map(([k, v]) => `"${k}":${v}`).join(',')}}`);
  fc.assert(
    fc.property(document, (text) => {
      const parsed: unknown = JSON.parse(text);
      let strictVerdict: 'ok' | 'duplicate' = 'ok';
      try {
        parseStrictJson(text);
      } catch (err) {
        assert.ok(err instanceof DuplicateMemberError);
        strictVerdict = 'duplicate';
      }
      if (isFlatObjectWithoutDuplicates(text, parsed)) assert.equal(strictVerdict, 'ok', text);
    }),
    { numRuns: 5000 },
  );
});
