// SECURITY-CASES.md §2: hostile headers and algorithms (cases 22–27, 31, 33).
import { test } from 'node:test';
import { createHmac, generateKeyPairSync, sign } from 'node:crypto';
import { Bundle } from '../../../src/spiffe/bundle.js';
import type { JwtBundleSource } from '../../../src/spiffe/sources.js';
import { JwtSvid } from '../../../src/spiffe/jwt/index.js';
import { AUD, NOW_DATE, TD, assertRejects, b64url, bundle, bundles, claims, keys, signWith, token, type Part } from './helpers.js';

const at = { now: NOW_DATE };
const validate = (t: string, source: JwtBundleSource = bundle) => () => JwtSvid.parseAndValidate(t, source, AUD, at);

function unsigned(header: Part, payload: Part = claims(), signature = ''): string {
  const enc = (p: Part) => (typeof p === 'string' || p instanceof Uint8Array ? b64url(p) : b64url(JSON.stringify(p)));
  return `${enc(header)}.${enc(payload)}.${signature}`;
}

for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
  test(`case 22: alg ${alg} with an empty signature is refused as unsupported`, () => {
    const t = unsigned({ alg, kid: 'p256' });
    assertRejects(validate(t), 'ERR_JWT_SVID_UNSUPPORTED_ALG', t);
    assertRejects(() => JwtSvid.parseInsecure(t, AUD, at), 'ERR_JWT_SVID_UNSUPPORTED_ALG', t);
  });
}

test('case 22: a header without alg is refused', () => {
  assertRejects(validate(unsigned({ kid: 'p256' }, claims(), 'AAAA')), 'ERR_JWT_SVID_UNSUPPORTED_ALG');
  assertRejects(validate(unsigned({ alg: null, kid: 'p256' }, claims(), 'AAAA')), 'ERR_JWT_SVID_UNSUPPORTED_ALG');
  assertRejects(validate(unsigned({ alg: ['ES256'], kid: 'p256' }, claims(), 'AAAA')), 'ERR_JWT_SVID_UNSUPPORTED_ALG');
  assertRejects(validate(unsigned({ alg: 'es256', kid: 'p256' }, claims(), 'AAAA')), 'ERR_JWT_SVID_UNSUPPORTED_ALG');
});

function hmacToken(alg: 'HS256' | 'HS384' | 'HS512', secret: string | Buffer): string {
  const input = `${b64url(JSON.stringify({ alg, kid: 'rsa', typ: 'JWT' }))}.${b64url(JSON.stringify(claims()))}`;
  return `${input}.${createHmac(`sha${alg.slice(2)}`, secret).update(input).digest('base64url')}`;
}

for (const alg of ['HS256', 'HS384', 'HS512'] as const) {
  test(`case 23: ${alg} keyed with the bundle's public key (PEM, DER, JWK bytes) is refused`, () => {
    const pem = keys.rsa.publicKey.export({ type: 'spki', format: 'pem' }) as string;
    const der = keys.rsa.publicKey.export({ type: 'spki', format: 'der' });
    const jwk = JSON.stringify(keys.rsa.publicKey.export({ format: 'jwk' }));
    for (const secret of [pem, der, jwk]) {
      const t = hmacToken(alg, secret);
      assertRejects(validate(t), 'ERR_JWT_SVID_UNSUPPORTED_ALG', t);
    }
  });
}

test('EdDSA is refused before any key lookup, even with the Ed25519 key in the bundle', () => {
  const ed = generateKeyPairSync('ed25519');
  // Bundle.parse ignores OKP keys; the constructor takes any KeyObject, so this is the worst case.
  const withEd = new Bundle(TD, { jwtAuthorities: [{ keyId: 'ed', publicKey: ed.publicKey }] });
  const input = `${b64url(JSON.stringify({ alg: 'EdDSA', kid: 'ed', typ: 'JWT' }))}.${b64url(JSON.stringify(claims()))}`;
  const t = `${input}.${sign(null, Buffer.from(input), ed.privateKey).toString('base64url')}`;
  assertRejects(validate(t, withEd), 'ERR_JWT_SVID_UNSUPPORTED_ALG', t);
  // An unknown kid changes nothing: the algorithm is checked first.
  assertRejects(validate(unsigned({ alg: 'EdDSA', kid: 'nope' }, claims(), 'AAAA'), withEd), 'ERR_JWT_SVID_UNSUPPORTED_ALG');
  // And an allowed alg naming the Ed25519 key is a key/alg mismatch.
  const es = signWith('ES256', keys.p256.privateKey, { alg: 'ES256', kid: 'ed' }, claims());
  assertRejects(validate(es, withEd), 'ERR_JWT_SVID_ALG_KEY_MISMATCH', es);
  // Without kid, the Ed25519 key never fits an allowed algorithm.
  const noKid = signWith('ES256', keys.p256.privateKey, { alg: 'ES256' }, claims());
  assertRejects(validate(noKid, withEd), 'ERR_JWT_SVID_NO_MATCHING_KEY', noKid);
});

for (const alg of ['ES256K', 'RS1', 'HS1', 'A128KW', 'dir', 'RSA-OAEP', 'ES256 ', ' ES256', 'Ed25519']) {
  test(`alg ${JSON.stringify(alg)} is refused`, () => {
    assertRejects(validate(unsigned({ alg, kid: 'p256' }, claims(), 'AAAA')), 'ERR_JWT_SVID_UNSUPPORTED_ALG');
  });
}

test('an alg that does not fit the key type is refused', () => {
  const cases: Array<[string, string]> = [
    ['RS256', 'p256'], // RSA alg, EC key
    ['PS256', 'p256'],
    ['ES256', 'rsa'], // EC alg, RSA key
    ['ES384', 'p256'], // wrong curve
    ['ES256', 'p384'],
    ['ES512', 'p384'],
    ['ES256', 'p521'],
  ];
  for (const [alg, kid] of cases) {
    // Signed with the right key for the kid, under the claimed alg's hash: the signature itself could be fine.
    const t = unsigned({ alg, kid }, claims(), 'AAAA');
    assertRejects(validate(t), 'ERR_JWT_SVID_ALG_KEY_MISMATCH', t);
  }
  // RS256 header, really signed with the EC key (ECDSA over SHA-256): still a mismatch.
  const input = `${b64url(JSON.stringify({ alg: 'RS256', kid: 'p256' }))}.${b64url(JSON.stringify(claims()))}`;
  const t = `${input}.${sign('sha256', Buffer.from(input), keys.p256.privateKey).toString('base64url')}`;
  assertRejects(validate(t), 'ERR_JWT_SVID_ALG_KEY_MISMATCH', t);
});

test('RSA keys under 2048 bits and private keys in a bundle are never used', () => {
  const small = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const weak = new Bundle(TD, { jwtAuthorities: [{ keyId: 'small', publicKey: small.publicKey }, { keyId: 'priv', publicKey: keys.p256.privateKey }] });
  const t1 = signWith('RS256', small.privateKey, { alg: 'RS256', kid: 'small' }, claims());
  assertRejects(validate(t1, weak), 'ERR_JWT_SVID_ALG_KEY_MISMATCH', t1);
  const t2 = signWith('ES256', keys.p256.privateKey, { alg: 'ES256', kid: 'priv' }, claims());
  assertRejects(validate(t2, weak), 'ERR_JWT_SVID_ALG_KEY_MISMATCH', t2);
});

test('case 24: an unknown kid is refused, whatever it looks like', () => {
  for (const kid of ['missing', '../../../dev/null', "x' UNION SELECT 'k", 'http://evil/jwks.json', '__proto__', 'constructor', 'P256']) {
    const t = signWith('ES256', keys.p256.privateKey, { alg: 'ES256', kid }, claims());
    assertRejects(validate(t), 'ERR_JWT_SVID_UNKNOWN_KEY_ID', t);
  }
});

test('kid must be a non-empty string', () => {
  for (const kid of ['', 5, null, ['p256'], { a: 1 }]) {
    assertRejects(validate(unsigned({ alg: 'ES256', kid }, claims(), 'AAAA')), 'ERR_JWT_SVID_MALFORMED');
  }
});

test('case 33: a kid that exists only in another trust domain bundle is refused', () => {
  // Validly signed by other.example's key, but the subject is in example.org.
  const t = signWith('ES256', keys.p256b.privateKey, { alg: 'ES256', kid: 'other' }, claims());
  assertRejects(validate(t, bundles), 'ERR_JWT_SVID_UNKNOWN_KEY_ID', t);
  // Without kid, other.example's key is never tried either.
  const noKid = signWith('ES256', keys.p256b.privateKey, { alg: 'ES256' }, claims());
  assertRejects(validate(noKid, bundles), 'ERR_JWT_SVID_BAD_SIGNATURE', noKid);
});

for (const name of ['jku', 'x5u', 'jwk', 'x5c', 'x5t', 'x5t#S256']) {
  test(`case 26: a ${name} header is refused even when the kid is fine`, () => {
    const value = name === 'jwk' ? keys.p256.publicKey.export({ format: 'jwk' }) : name === 'x5c' ? ['MIIB'] : 'https://evil.example/keys';
    const t = signWith('ES256', keys.p256.privateKey, { alg: 'ES256', kid: 'p256', [name]: value }, claims());
    assertRejects(validate(t), 'ERR_JWT_SVID_FORBIDDEN_HEADER', t);
  });
}

test('case 27: crit is refused, with an unknown extension and empty', () => {
  for (const crit of [['x-ext'], [], ['exp'], 'x-ext']) {
    const t = signWith('ES256', keys.p256.privateKey, { alg: 'ES256', kid: 'p256', crit, 'x-ext': true }, claims());
    assertRejects(validate(t), 'ERR_JWT_SVID_FORBIDDEN_HEADER', t);
  }
  const empty = signWith('ES256', keys.p256.privateKey, { alg: 'ES256', kid: 'p256', crit: [] }, claims());
  assertRejects(validate(empty), 'ERR_JWT_SVID_FORBIDDEN_HEADER', empty);
});

test('any header beyond alg, kid and typ is refused (JWT-SVID.md §2)', () => {
  for (const extra of [{ cty: 'JWT' }, { b64: false }, { zip: 'DEF' }, { enc: 'A128GCM' }, { p2c: 2147483647 }, { foo: 'bar' }]) {
    const t = signWith('ES256', keys.p256.privateKey, { alg: 'ES256', kid: 'p256', ...extra }, claims());
    assertRejects(validate(t), 'ERR_JWT_SVID_FORBIDDEN_HEADER', t);
  }
});

test('case 31: typ other than JWT or JOSE is refused', () => {
  for (const typ of ['at+jwt', 'application/at+jwt', 'jwt', 'jose', 'JWS', '', 'secevent+jwt', 5, null]) {
    const t = signWith('ES256', keys.p256.privateKey, { alg: 'ES256', kid: 'p256', typ }, claims());
    assertRejects(validate(t), 'ERR_JWT_SVID_BAD_TYP', t);
  }
});

test('duplicate header members are refused', () => {
  const header = '{"alg":"ES256","kid":"p256","alg":"none"}';
  const t = signWith('ES256', keys.p256.privateKey, header, claims());
  assertRejects(validate(t), 'ERR_JWT_SVID_MALFORMED', t);
});

test('a header that is not a JSON object, or not UTF-8, is refused', () => {
  for (const header of ['[]', 'null', '"ES256"', '{', 'alg', Buffer.from([0x7b, 0xff, 0x7d])]) {
    assertRejects(validate(unsigned(header, claims(), 'AAAA')), 'ERR_JWT_SVID_MALFORMED');
  }
});

test('a valid token with a typ or forbidden header is refused by parseInsecure too', () => {
  const t = token('ES256', { header: { typ: 'at+jwt' } });
  assertRejects(() => JwtSvid.parseInsecure(t, AUD, at), 'ERR_JWT_SVID_BAD_TYP', t);
  const j = token('ES256', { header: { jku: 'https://evil' } });
  assertRejects(() => JwtSvid.parseInsecure(j, AUD, at), 'ERR_JWT_SVID_FORBIDDEN_HEADER', j);
});
