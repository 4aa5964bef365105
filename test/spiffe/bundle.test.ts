import 'reflect-metadata';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { Bundle } from '../../src/spiffe/bundle.js';
import { BundleSet } from '../../src/spiffe/bundle-set.js';
import { BundleError } from '../../src/spiffe/bundle-error.js';
import { TrustDomain } from '../../src/spiffe/trust-domain.js';
import { parseStrictJson, DuplicateMemberError } from '../../src/spiffe/strict-json.js';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
const td = TrustDomain.parse('example.org');

async function selfSignedCaDer(): Promise<Buffer> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'C=US, O=SPIFFE',
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 3600_000),
    keys,
    signingAlgorithm: alg,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      new x509.SubjectAlternativeNameExtension([{ type: 'url', value: 'spiffe://example.org' }]),
    ],
  });
  return Buffer.from(cert.rawData);
}

const caDer = await selfSignedCaDer();
const jwtKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    assert.ok(err instanceof BundleError, `expected BundleError, got ${String(err)}`);
    return err.code;
  }
}

test('a bundle round-trips through the SPIFFE bundle document', () => {
  const bundle = new Bundle(td, { x509Authorities: [caDer], jwtAuthorities: [{ keyId: 'k1', publicKey: jwtKey }], sequence: 7, refreshHint: 300 });
  const doc = bundle.toJSON() as { keys: Array<Record<string, unknown>>; spiffe_sequence: number };
  assert.equal(doc.keys.length, 2);
  assert.equal(doc.keys[0]!.use, 'x509-svid');
  assert.equal(doc.keys[0]!.kid, undefined, 'x509 keys carry no kid');
  assert.deepEqual(doc.keys[0]!.x5c, [caDer.toString('base64')]);
  assert.equal(doc.keys[1]!.use, 'jwt-svid');
  assert.equal(doc.keys[1]!.kid, 'k1');
  assert.equal(doc.spiffe_sequence, 7);
  const again = Bundle.parse(JSON.stringify(doc), td);
  assert.ok(again.equals(bundle));
  assert.equal(again.refreshHint, 300);
  assert.ok(again.x509Authorities()[0]!.equals(caDer));
  assert.equal(again.getJwtAuthority('k1')!.publicKey.asymmetricKeyType, 'ec');
});

test('PEM import and export of X.509 authorities', () => {
  const bundle = new Bundle(td, { x509Authorities: [caDer] });
  const pem = bundle.toPem();
  assert.match(pem, /^-----BEGIN CERTIFICATE-----\n/);
  const back = Bundle.fromX509Pem('some comment\n' + pem, td);
  assert.ok(back.x509Authorities()[0]!.equals(caDer));
  assert.equal(codeOf(() => Bundle.fromX509Pem('nothing here', td)), 'ERR_BUNDLE_MALFORMED_PEM');
  assert.equal(codeOf(() => Bundle.fromX509Pem('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', td)), 'ERR_BUNDLE_MALFORMED_KEY');
  assert.equal(codeOf(() => Bundle.fromX509Pem('-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n', td)), 'ERR_BUNDLE_MALFORMED_PEM');
});

test('sources answer only for their own trust domain', () => {
  const bundle = new Bundle(td, { x509Authorities: [caDer] });
  assert.equal(bundle.getX509BundleForTrustDomain(td), bundle);
  assert.equal(bundle.getX509BundleForTrustDomain(TrustDomain.parse('evil.test')), undefined);
  const other = new Bundle('other.org', { jwtAuthorities: [{ keyId: 'k', publicKey: jwtKey }] });
  const set = new BundleSet([bundle, other]);
  assert.equal(set.getJwtBundleForTrustDomain(TrustDomain.parse('other.org')), other);
  assert.equal(set.getX509BundleForTrustDomain(td), bundle);
  assert.equal(set.getX509BundleForTrustDomain(TrustDomain.parse('evil.test')), undefined);
  set.delete(td);
  assert.equal(set.get(td), undefined);
});

const x509Key = () => ({ use: 'x509-svid', ...(new Bundle(td, { x509Authorities: [caDer] }).toJSON() as { keys: Array<Record<string, unknown>> }).keys[0] });
const jwtJwk = (): Record<string, unknown> => ({ use: 'jwt-svid', kid: 'k1', ...(jwtKey.export({ format: 'jwk' }) as Record<string, unknown>) });

const hostile: Array<[string, string, string]> = [
  ['not JSON', '{"keys": [', 'ERR_BUNDLE_MALFORMED_JSON'],
  ['an array', '[]', 'ERR_BUNDLE_MALFORMED_JSON'],
  ['no keys', '{}', 'ERR_BUNDLE_MISSING_KEYS'],
  ['keys not an array', '{"keys": {}}', 'ERR_BUNDLE_MISSING_KEYS'],
  ['duplicate top-level member', '{"keys": [], "keys": []}', 'ERR_BUNDLE_DUPLICATE_MEMBER'],
  ['duplicate member inside a key', JSON.stringify({ keys: [jwtJwk()] }).replace('"kid":"k1"', '"kid":"k1","kid":"k2"'), 'ERR_BUNDLE_DUPLICATE_MEMBER'],
  ['negative sequence', '{"keys": [], "spiffe_sequence": -1}', 'ERR_BUNDLE_BAD_MEMBER'],
  ['sequence beyond 2^53', '{"keys": [], "spiffe_sequence": 18446744073709551615}', 'ERR_BUNDLE_BAD_MEMBER'],
  ['string refresh hint', '{"keys": [], "spiffe_refresh_hint": "300"}', 'ERR_BUNDLE_BAD_MEMBER'],
  ['key not an object', '{"keys": [42]}', 'ERR_BUNDLE_MALFORMED_KEY'],
  ['key without kty', '{"keys": [{"use": "jwt-svid", "kid": "a"}]}', 'ERR_BUNDLE_MALFORMED_KEY'],
  ['jwt key without kid', JSON.stringify({ keys: [{ ...jwtJwk(), kid: undefined }] }), 'ERR_BUNDLE_MALFORMED_KEY'],
  ['jwt key with empty kid', JSON.stringify({ keys: [{ ...jwtJwk(), kid: '' }] }), 'ERR_BUNDLE_MALFORMED_KEY'],
  ['duplicate kid', JSON.stringify({ keys: [jwtJwk(), jwtJwk()] }), 'ERR_BUNDLE_DUPLICATE_KEY'],
  ['jwt key with a bad point', JSON.stringify({ keys: [{ ...jwtJwk(), x: 'AAAA' }] }), 'ERR_BUNDLE_MALFORMED_KEY'],
  ['jwt key on an unsupported curve', JSON.stringify({ keys: [{ ...jwtJwk(), crv: 'secp256k1' }] }), 'ERR_BUNDLE_MALFORMED_KEY'],
  ['jwt key with private material', JSON.stringify({ keys: [{ ...jwtJwk(), d: 'AAAA' }] }), 'ERR_BUNDLE_MALFORMED_KEY'],
  ['x509 key with two certificates', JSON.stringify({ keys: [{ ...x509Key(), x5c: [caDer.toString('base64'), caDer.toString('base64')] }] }), 'ERR_BUNDLE_MALFORMED_KEY'],
  ['x509 key with no certificate', JSON.stringify({ keys: [{ ...x509Key(), x5c: [] }] }), 'ERR_BUNDLE_MALFORMED_KEY'],
  ['x509 key whose x5c is not DER', JSON.stringify({ keys: [{ ...x509Key(), x5c: ['AAAA'] }] }), 'ERR_BUNDLE_MALFORMED_KEY'],
  ['x509 key whose params differ from its certificate', JSON.stringify({ keys: [{ ...x509Key(), x: jwtJwk().x }] }), 'ERR_BUNDLE_MALFORMED_KEY'],
  ['duplicate x509 authority', JSON.stringify({ keys: [x509Key(), x509Key()] }), 'ERR_BUNDLE_DUPLICATE_KEY'],
];

for (const [name, doc, code] of hostile) {
  test(`Bundle.parse rejects ${name} (${code})`, () => {
    assert.equal(codeOf(() => Bundle.parse(doc, td)), code);
  });
}

test('an oversized document is refused before parsing', () => {
  const big = '{"keys": [], "pad": "' + 'a'.repeat(1024 * 1024) + '"}';
  assert.equal(codeOf(() => Bundle.parse(big, td)), 'ERR_BUNDLE_TOO_LARGE');
});

test('invalid UTF-8 is refused', () => {
  const bytes = Buffer.concat([Buffer.from('{"keys": [], "x": "'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
  assert.throws(() => Bundle.parse(bytes, td));
});

test('unknown kty and unknown or missing use are ignored one key at a time', () => {
  const doc = { keys: [{ kty: 'OKP', crv: 'Ed25519', x: 'AAAA', use: 'jwt-svid', kid: 'ed' }, { ...jwtJwk(), use: 'wit-svid' }, { ...jwtJwk(), use: undefined }, jwtJwk()] };
  const bundle = Bundle.parse(JSON.stringify(doc), td);
  assert.deepEqual([...bundle.jwtAuthorities().keys()], ['k1']);
  assert.equal(bundle.x509Authorities().length, 0);
});

test('an empty keys array is a valid bundle that trusts nothing', () => {
  const bundle = Bundle.parse('{"keys": []}', td);
  assert.equal(bundle.x509Authorities().length, 0);
  assert.equal(bundle.jwtAuthorities().size, 0);
});

test('Bundle.fromJwks accepts a plain JWKS (keys without use), ignoring x509-svid keys', () => {
  const plain = { keys: [{ ...jwtJwk(), use: undefined }, x509Key(), { kty: 'oct', k: 'c2VjcmV0', kid: 'hmac' }] };
  const bundle = Bundle.fromJwks(JSON.stringify(plain), td);
  assert.deepEqual([...bundle.jwtAuthorities().keys()], ['k1']);
  assert.equal(bundle.x509Authorities().length, 0);
});

test('an RSA key under 2048 bits is refused', () => {
  const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' });
  assert.equal(codeOf(() => Bundle.parse(JSON.stringify({ keys: [{ ...small, use: 'jwt-svid', kid: 'r' }] }), td)), 'ERR_BUNDLE_MALFORMED_KEY');
});

test('parseStrictJson finds duplicates at any depth and ignores look-alikes inside strings', () => {
  assert.throws(() => parseStrictJson('{"a": {"b": 1, "b": 2}}'), DuplicateMemberError);
  assert.throws(() => parseStrictJson('[{"a": 1}, {"c": [1, {"d": 1, "d": 1}]}]'), DuplicateMemberError);
  assert.throws(() => parseStrictJson('{"\\u0061": 1, "a": 2}'), DuplicateMemberError);
  assert.deepEqual(parseStrictJson('{"a": "\\"a\\": 1, ", "b": {"a": 1}}'), { a: '"a": 1, ', b: { a: 1 } });
  assert.deepEqual(parseStrictJson('[{"a": 1}, {"a": 2}]'), [{ a: 1 }, { a: 2 }]);
  assert.throws(() => parseStrictJson('{"a": 1,}'), SyntaxError);
});
