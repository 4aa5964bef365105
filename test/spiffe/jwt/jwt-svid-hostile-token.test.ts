// SECURITY-CASES.md §2: hostile token shapes, signatures and claims (cases 28–30, 32, 34–36).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { Bundle } from '../../../src/spiffe/bundle.js';
import { BundleSet } from '../../../src/spiffe/bundle-set.js';
import type { JwtBundleSource } from '../../../src/spiffe/sources.js';
import { JwtSvid, JWT_SVID_MAX_KEYS_TRIED_WITHOUT_KID, MAX_JWT_SVID_LENGTH } from '../../../src/spiffe/jwt/index.js';
import { AUD, NOW, NOW_DATE, TD, assertRejects, b64url, bundle, claims, keys, otherBundle, signWith, token } from './helpers.js';

const at = { now: NOW_DATE };
const validate = (t: string, source: JwtBundleSource = bundle) => () => JwtSvid.parseAndValidate(t, source, AUD, at);
const es256 = (payload: Record<string, unknown> | string | Uint8Array, header: Record<string, unknown> = { alg: 'ES256', kid: 'p256', typ: 'JWT' }) =>
  signWith('ES256', keys.p256.privateKey, header, payload);

// ---- shape (cases 32, 34, 35) ----

test('case 32: JWS JSON serialization is refused', () => {
  const [protectedHeader, payload, signature] = token().split('.');
  const flattened = JSON.stringify({ protected: protectedHeader, payload, signature });
  assertRejects(validate(flattened), 'ERR_JWT_SVID_MALFORMED', flattened);
  const general = JSON.stringify({ payload, signatures: [{ protected: protectedHeader, header: { kid: 'p256' }, signature }] });
  assertRejects(validate(general), 'ERR_JWT_SVID_MALFORMED', general);
});

test('case 35: a JWE (five parts) is refused', () => {
  const jwe = `${b64url(JSON.stringify({ alg: 'PBES2-HS256+A128KW', enc: 'A128GCM', p2c: 2147483647, p2s: 'AAAA' }))}.AAAA.AAAA.AAAA.AAAA`;
  assertRejects(validate(jwe), 'ERR_JWT_SVID_MALFORMED', jwe);
});

test('case 34: an oversized token is refused before splitting', () => {
  const big = token('ES256', { claims: { pad: 'x'.repeat(MAX_JWT_SVID_LENGTH) } });
  assertRejects(validate(big), 'ERR_JWT_SVID_TOO_LARGE', big);
  assertRejects(validate('.'.repeat(MAX_JWT_SVID_LENGTH + 1)), 'ERR_JWT_SVID_TOO_LARGE');
  assertRejects(validate('A'.repeat(10_000_000)), 'ERR_JWT_SVID_TOO_LARGE');
});

test('case 34: thousands of dots, and anything but exactly three parts, is refused', () => {
  for (const t of ['.'.repeat(5000), '..', '...', 'a.b', 'a.b.c.d', 'abc', '', `${token()}.`, `.${token()}`]) {
    assertRejects(validate(t), 'ERR_JWT_SVID_MALFORMED');
  }
});

test('empty header or payload segments are refused', () => {
  const [h, p, s] = token().split('.');
  for (const t of [`.${p}.${s}`, `${h}..${s}`]) assertRejects(validate(t), 'ERR_JWT_SVID_MALFORMED', t);
});

test('an empty signature is refused for an allowed alg', () => {
  const [h, p] = token().split('.');
  assertRejects(validate(`${h}.${p}.`), 'ERR_JWT_SVID_MALFORMED');
  assertRejects(() => JwtSvid.parseInsecure(`${h}.${p}.`, AUD, at), 'ERR_JWT_SVID_MALFORMED');
});

test('non-strings are refused as malformed', () => {
  for (const t of [undefined, null, 5, {}, Buffer.from(token())]) {
    assertRejects(() => JwtSvid.parseAndValidate(t as unknown as string, bundle, AUD, at), 'ERR_JWT_SVID_MALFORMED');
  }
});

test('bad base64url in any segment is refused', () => {
  const [h, p, s] = token().split('.') as [string, string, string];
  const variants: Array<[string, string, string]> = [
    [`${h}=`, p, s], // padding
    [h, `${p}=`, s],
    [h, p, `${s}==`],
    [h, p.replace(/[-_]/, '+').replace(/^(.)/, '+'), s], // standard alphabet
    [h, p, `${s.slice(0, 10)}/${s.slice(11)}`],
    [h, ` ${p}`, s], // whitespace
    [h, p, `${s}\n`],
    [h, `${p.slice(0, 5)}é${p.slice(6)}`, s], // non-ASCII
    [h, p, 'A'.repeat(85)], // length % 4 === 1 can never be base64
  ];
  for (const [a, b, c] of variants) {
    const t = `${a}.${b}.${c}`;
    let threw = false;
    try {
      JwtSvid.parseAndValidate(t, bundle, AUD, at);
    } catch (err) {
      threw = true;
      assert.equal((err as { code: string }).code.startsWith('ERR_JWT_SVID_'), true);
    }
    assert.ok(threw, `accepted ${JSON.stringify([a.length, b.length, c.length])}`);
  }
  // Precise cases: each is MALFORMED before anything else happens.
  assertRejects(validate(`${h}=.${p}.${s}`), 'ERR_JWT_SVID_MALFORMED');
  assertRejects(validate(`${h}.${p}.${s}=`), 'ERR_JWT_SVID_MALFORMED');
  assertRejects(validate(`${h}.${p}.+${s.slice(1)}`), 'ERR_JWT_SVID_MALFORMED');
  assertRejects(validate(`${h}.${p}.${'A'.repeat(85)}`), 'ERR_JWT_SVID_MALFORMED'); // length % 4 === 1
});

test('non-canonical base64url (non-zero trailing bits) is refused', () => {
  // "YQ" is "a"; "YR" decodes to "a" too with Buffer's lenient decoder.
  const t = es256(claims());
  const sig = t.split('.')[2]!;
  // An ES256 signature is 64 bytes: 86 chars, length % 4 === 2, so the last char carries 4 unused bits.
  assert.equal(sig.length % 4, 2);
  const last = sig[sig.length - 1]!;
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const tweaked = alphabet[alphabet.indexOf(last) | 1]!;
  assert.notEqual(tweaked, last);
  assert.deepEqual(Buffer.from(sig.slice(0, -1) + tweaked, 'base64url'), Buffer.from(sig, 'base64url'));
  assertRejects(validate(`${t.split('.')[0]}.${t.split('.')[1]}.${sig.slice(0, -1)}${tweaked}`), 'ERR_JWT_SVID_MALFORMED');
});

// ---- signature (cases 23, 33 and tampering) ----

test('a flipped signature bit is refused', () => {
  for (const alg of ['ES256', 'RS256', 'PS384'] as const) {
    const t = token(alg);
    const [h, p, s] = t.split('.') as [string, string, string];
    const sig = Buffer.from(s, 'base64url');
    sig[sig.length >> 1]! ^= 0x01;
    const bad = `${h}.${p}.${sig.toString('base64url')}`;
    assertRejects(validate(bad), 'ERR_JWT_SVID_BAD_SIGNATURE', bad);
  }
});

test('a changed payload is refused', () => {
  const [h, , s] = token().split('.');
  const forged = `${h}.${b64url(JSON.stringify(claims({ sub: 'spiffe://example.org/admin' })))}.${s}`;
  assertRejects(validate(forged), 'ERR_JWT_SVID_BAD_SIGNATURE', forged);
  const longer = `${h}.${b64url(JSON.stringify(claims({ exp: NOW + 86_400 })))}.${s}`;
  assertRejects(validate(longer), 'ERR_JWT_SVID_BAD_SIGNATURE', longer);
});

test('a changed header is refused', () => {
  const [, p, s] = token().split('.');
  const t = `${b64url(JSON.stringify({ alg: 'ES256', kid: 'p256' }))}.${p}.${s}`; // typ dropped
  assertRejects(validate(t), 'ERR_JWT_SVID_BAD_SIGNATURE', t);
});

test('a DER-encoded or truncated ECDSA signature is refused', () => {
  const input = `${b64url(JSON.stringify({ alg: 'ES256', kid: 'p256' }))}.${b64url(JSON.stringify(claims()))}`;
  const der = sign('sha256', Buffer.from(input), keys.p256.privateKey).toString('base64url');
  assertRejects(validate(`${input}.${der}`), 'ERR_JWT_SVID_BAD_SIGNATURE');
  const p1363 = sign('sha256', Buffer.from(input), { key: keys.p256.privateKey, dsaEncoding: 'ieee-p1363' });
  assertRejects(validate(`${input}.${p1363.subarray(0, 63).toString('base64url')}`), 'ERR_JWT_SVID_BAD_SIGNATURE');
  assertRejects(validate(`${input}.${Buffer.alloc(64).toString('base64url')}`), 'ERR_JWT_SVID_BAD_SIGNATURE');
});

test('RS256 signature presented as PS256 (and the reverse) is refused', () => {
  const rs = token('RS256');
  const [, p, s] = rs.split('.');
  const asPs = `${b64url(JSON.stringify({ alg: 'PS256', kid: 'rsa', typ: 'JWT' }))}.${p}.${s}`;
  assertRejects(validate(asPs), 'ERR_JWT_SVID_BAD_SIGNATURE', asPs);
});

test('signatures are checked before the claims', () => {
  const expired = token('ES256', { claims: { exp: NOW - 3600 } });
  const [h, p, s] = expired.split('.') as [string, string, string];
  const sig = Buffer.from(s, 'base64url');
  sig[0]! ^= 0x80;
  assertRejects(validate(`${h}.${p}.${sig.toString('base64url')}`), 'ERR_JWT_SVID_BAD_SIGNATURE');
  const wrongAud = token('ES256', { claims: { aud: 'other' } });
  assertRejects(validate(wrongAud.slice(0, -4) + 'AAAA'), 'ERR_JWT_SVID_BAD_SIGNATURE');
});

test('no bundle for the subject trust domain is refused', () => {
  const t = es256(claims({ sub: 'spiffe://unknown.example/svc' }));
  assertRejects(validate(t), 'ERR_JWT_SVID_NO_BUNDLE', t);
  assertRejects(validate(t, new BundleSet([bundle, otherBundle])), 'ERR_JWT_SVID_NO_BUNDLE', t);
  assertRejects(validate(token(), new BundleSet()), 'ERR_JWT_SVID_NO_BUNDLE');
});

test('a source that throws, or hands back another trust domain bundle, is a refusal', () => {
  const closed: JwtBundleSource = {
    getJwtBundleForTrustDomain() {
      throw new Error('source is closed');
    },
  };
  assertRejects(validate(token(), closed), 'ERR_JWT_SVID_NO_BUNDLE');
  // other.example's bundle holds p256b under kid "other"; it must not vouch for example.org.
  const confused: JwtBundleSource = { getJwtBundleForTrustDomain: () => otherBundle };
  const t = signWith('ES256', keys.p256b.privateKey, { alg: 'ES256', kid: 'other' }, claims());
  assertRejects(validate(t, confused), 'ERR_JWT_SVID_NO_BUNDLE', t);
});

test('without kid: no key of the right type, or too many candidates, is refused', () => {
  const rsaOnly = new Bundle(TD, { jwtAuthorities: [{ keyId: 'rsa', publicKey: keys.rsa.publicKey }] });
  const t = es256(claims(), { alg: 'ES256' });
  assertRejects(validate(t, rsaOnly), 'ERR_JWT_SVID_NO_MATCHING_KEY', t);
  const crowd = new Bundle(TD, {
    jwtAuthorities: Array.from({ length: JWT_SVID_MAX_KEYS_TRIED_WITHOUT_KID + 1 }, (_, i) => ({
      keyId: `k${i}`,
      publicKey: i === 0 ? keys.p256.publicKey : generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey,
    })),
  });
  assertRejects(validate(t, crowd), 'ERR_JWT_SVID_NO_MATCHING_KEY', t);
  // With the kid, the same crowded bundle is fine.
  assert.equal(JwtSvid.parseAndValidate(es256(claims(), { alg: 'ES256', kid: 'k0' }), crowd, AUD, at).id.path, '/workload');
  // A token without kid signed by a key outside the bundle.
  const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  assertRejects(validate(signWith('ES256', stranger.privateKey, { alg: 'ES256' }, claims())), 'ERR_JWT_SVID_BAD_SIGNATURE');
});

test('case 25: with requireKeyId, a token without kid is refused (the go-spiffe behaviour)', () => {
  const t = es256(claims(), { alg: 'ES256', typ: 'JWT' });
  assert.ok(JwtSvid.parseAndValidate(t, bundle, AUD, at));
  assertRejects(() => JwtSvid.parseAndValidate(t, bundle, AUD, { ...at, requireKeyId: true }), 'ERR_JWT_SVID_MISSING_KEY_ID', t);
  assert.ok(JwtSvid.parseAndValidate(token(), bundle, AUD, { ...at, requireKeyId: true }));
});

// ---- payload encoding (case 36) ----

test('case 36: duplicate claim members are refused', () => {
  for (const payload of [
    `{"sub":"spiffe://example.org/a","sub":"spiffe://example.org/b","aud":"${AUD}","exp":${NOW + 60}}`,
    `{"sub":"spiffe://example.org/a","aud":"${AUD}","exp":${NOW + 60},"exp":${NOW + 99999}}`,
    `{"sub":"spiffe://example.org/a","aud":"${AUD}","exp":${NOW + 60},"x":{"a":1,"a":2}}`,
    `{"sub":"spiffe://example.org/a","aud":"${AUD}","exp":${NOW + 60},"\\u0073ub":"spiffe://example.org/b"}`,
  ]) {
    const t = es256(payload);
    assertRejects(validate(t), 'ERR_JWT_SVID_MALFORMED', t);
  }
});

test('case 36: invalid UTF-8 in the claims is refused', () => {
  const text = Buffer.from(JSON.stringify(claims({ name: 'XX' })));
  const at2 = text.indexOf('XX');
  for (const bad of [[0xff, 0xfe], [0xc3, 0x28], [0xed, 0xa0]]) {
    const bytes = Buffer.from(text);
    bytes[at2] = bad[0]!;
    bytes[at2 + 1] = bad[1]!;
    const t = es256(bytes);
    assertRejects(validate(t), 'ERR_JWT_SVID_MALFORMED', t);
  }
});

test('claims that are not a JSON object are refused', () => {
  for (const payload of ['[]', 'null', '"x"', '42', '{', '', '\uFEFF{}']) {
    const t = payload === '' ? `${b64url('{"alg":"ES256","kid":"p256"}')}..AAAA` : es256(payload);
    assertRejects(validate(t), 'ERR_JWT_SVID_MALFORMED');
  }
});

// ---- subject ----

test('a sub that is not a SPIFFE ID, or is a trust domain ID, is refused', () => {
  for (const sub of ['workload', 'https://example.org/x', 'SPIFFE://example.org/x', 'spiffe://EXAMPLE.org/x', 'spiffe://example.org/a//b', 'spiffe://example.org/x/', '', 5, null, ['spiffe://example.org/x']]) {
    const t = es256(claims({ sub }));
    assertRejects(validate(t), 'ERR_JWT_SVID_BAD_SUBJECT', t);
  }
  for (const sub of ['spiffe://example.org', 'spiffe://example.org/']) {
    const t = es256(claims({ sub }));
    assertRejects(validate(t), 'ERR_JWT_SVID_BAD_SUBJECT', t);
  }
  const { sub: _sub, ...noSub } = claims();
  assertRejects(validate(es256(noSub)), 'ERR_JWT_SVID_MISSING_SUB');
});

// ---- audience (case 28) ----

test('case 28: missing, empty, numeric or wrong aud is refused', () => {
  const { aud: _aud, ...noAud } = claims();
  assertRejects(validate(es256(noAud)), 'ERR_JWT_SVID_MISSING_AUD');
  assertRejects(validate(es256(claims({ aud: [] }))), 'ERR_JWT_SVID_MISSING_AUD');
  for (const aud of [5, [5], null, { aud: AUD }, [AUD, 5], true]) {
    assertRejects(validate(es256(claims({ aud }))), 'ERR_JWT_SVID_INVALID_CLAIM');
  }
  for (const aud of ['other', ['other'], [''], '', AUD.toUpperCase(), [`${AUD} `]]) {
    assertRejects(validate(es256(claims({ aud }))), 'ERR_JWT_SVID_AUDIENCE_MISMATCH');
  }
});

test('case 28: single-audience mode refuses multi-audience tokens', () => {
  const multi = es256(claims({ aud: ['other', AUD] }));
  assert.equal(JwtSvid.parseAndValidate(multi, bundle, AUD, at).audience.length, 2);
  assertRejects(() => JwtSvid.parseAndValidate(multi, bundle, AUD, { ...at, singleAudience: true }), 'ERR_JWT_SVID_MULTIPLE_AUDIENCES');
  assert.equal(JwtSvid.parseAndValidate(es256(claims({ aud: AUD })), bundle, AUD, { ...at, singleAudience: true }).audience.length, 1);
});

// ---- time (cases 29, 30) ----

test('case 29: a token without exp is refused', () => {
  const { exp: _exp, ...noExp } = claims();
  assertRejects(validate(es256(noExp)), 'ERR_JWT_SVID_MISSING_EXP');
});

test('case 30: exp, nbf and iat must be finite numbers', () => {
  for (const exp of [String(NOW + 60), 'NaN', 'Infinity', null, [NOW + 60], { v: 1 }, true]) {
    assertRejects(validate(es256(claims({ exp }))), 'ERR_JWT_SVID_INVALID_CLAIM');
  }
  // JSON has no NaN, but 1e400 parses to Infinity.
  const inf = `{"sub":"spiffe://example.org/w","aud":"${AUD}","exp":1e400}`;
  assertRejects(validate(es256(inf)), 'ERR_JWT_SVID_INVALID_CLAIM');
  assertRejects(validate(es256(claims({ exp: 1e308 }))), 'ERR_JWT_SVID_INVALID_CLAIM');
  assert.ok(JwtSvid.parseAndValidate(es256(claims({ exp: 8.64e12 })), bundle, AUD, at).expiresAt.getTime() === 8.64e15);
  assertRejects(validate(es256(claims({ nbf: String(NOW) }))), 'ERR_JWT_SVID_INVALID_CLAIM');
  assertRejects(validate(es256(claims({ iat: 'yesterday' }))), 'ERR_JWT_SVID_INVALID_CLAIM');
  assertRejects(validate(es256(`{"sub":"spiffe://example.org/w","aud":"${AUD}","exp":${NOW + 60},"nbf":-1e400}`)), 'ERR_JWT_SVID_INVALID_CLAIM');
});

test('case 30: expired, not-yet-valid and issued-in-the-future tokens are refused', () => {
  assertRejects(validate(es256(claims({ exp: NOW - 31 }))), 'ERR_JWT_SVID_EXPIRED');
  assertRejects(validate(es256(claims({ exp: 0 }))), 'ERR_JWT_SVID_EXPIRED');
  assertRejects(validate(es256(claims({ exp: -1 }))), 'ERR_JWT_SVID_EXPIRED');
  assertRejects(validate(es256(claims({ nbf: NOW + 31 }))), 'ERR_JWT_SVID_NOT_YET_VALID');
  assertRejects(validate(es256(claims({ iat: NOW + 3600 }))), 'ERR_JWT_SVID_ISSUED_IN_FUTURE');
});

test('case 30: leeway is honoured at the boundary (exp <= now - leeway is expired)', () => {
  const exp = NOW;
  const t = es256(claims({ exp, iat: NOW - 60 }));
  const when = (seconds: number) => new Date(seconds * 1000);
  // Default 30 s.
  assert.ok(JwtSvid.parseAndValidate(t, bundle, AUD, { now: when(exp + 29.999) }));
  assertRejects(() => JwtSvid.parseAndValidate(t, bundle, AUD, { now: when(exp + 30) }), 'ERR_JWT_SVID_EXPIRED');
  // No leeway: exp == now is expired (as java-spiffe), exp > now is fine.
  assertRejects(() => JwtSvid.parseAndValidate(t, bundle, AUD, { now: when(exp), leeway: 0 }), 'ERR_JWT_SVID_EXPIRED');
  assert.ok(JwtSvid.parseAndValidate(t, bundle, AUD, { now: when(exp - 0.001), leeway: 0 }));
  // A custom leeway.
  assert.ok(JwtSvid.parseAndValidate(t, bundle, AUD, { now: when(exp + 119), leeway: 120 }));
  assertRejects(() => JwtSvid.parseAndValidate(t, bundle, AUD, { now: when(exp + 120), leeway: 120 }), 'ERR_JWT_SVID_EXPIRED');
  // nbf: in the future by at most the leeway is fine.
  const n = es256(claims({ nbf: NOW + 30, iat: NOW }));
  assert.ok(JwtSvid.parseAndValidate(n, bundle, AUD, at));
  assertRejects(() => JwtSvid.parseAndValidate(n, bundle, AUD, { ...at, leeway: 29 }), 'ERR_JWT_SVID_NOT_YET_VALID');
  // iat likewise.
  const i = es256(claims({ iat: NOW + 30 }));
  assert.ok(JwtSvid.parseAndValidate(i, bundle, AUD, at));
  assertRejects(() => JwtSvid.parseAndValidate(i, bundle, AUD, { ...at, leeway: 0 }), 'ERR_JWT_SVID_ISSUED_IN_FUTURE');
});

// ---- programmer errors ----

test('an empty or malformed expected audience is a TypeError, not a token error', () => {
  for (const audience of [[], '', [''], [5], undefined, null, 5, ['ok', '']]) {
    assert.throws(() => JwtSvid.parseAndValidate(token(), bundle, audience as unknown as string, at), TypeError);
    assert.throws(() => JwtSvid.parseInsecure(token(), audience as unknown as string, at), TypeError);
  }
});

test('leeway is bounded and now must be a valid Date', () => {
  for (const leeway of [301, -1, Infinity]) assert.throws(() => JwtSvid.parseAndValidate(token(), bundle, AUD, { now: NOW_DATE, leeway }), RangeError);
  for (const leeway of [NaN, '30']) assert.throws(() => JwtSvid.parseAndValidate(token(), bundle, AUD, { now: NOW_DATE, leeway: leeway as number }), TypeError);
  assert.ok(JwtSvid.parseAndValidate(token(), bundle, AUD, { now: NOW_DATE, leeway: 300 }));
  for (const now of [new Date(NaN), NOW * 1000, 'now']) assert.throws(() => JwtSvid.parseAndValidate(token(), bundle, AUD, { now: now as Date }), TypeError);
  assert.throws(() => JwtSvid.parseAndValidate(token(), null as unknown as JwtBundleSource, AUD, at), TypeError);
});
