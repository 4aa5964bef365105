import { test } from 'node:test';
import assert from 'node:assert/strict';
import { verify } from 'node:crypto';
import { CaError, CertificateAuthority, KEY_TYPES } from '../../src/ca/index.js';
import { JwtSvid } from '../../src/spiffe/jwt/index.js';
import { at } from './helpers.js';

const ID = 'spiffe://example.org/web';

function decode(token: string): { header: Record<string, unknown>; claims: Record<string, unknown>; input: Buffer; signature: Buffer } {
  const [h, p, s] = token.split('.') as [string, string, string];
  return {
    header: JSON.parse(Buffer.from(h, 'base64url').toString()),
    claims: JSON.parse(Buffer.from(p, 'base64url').toString()),
    input: Buffer.from(`${h}.${p}`),
    signature: Buffer.from(s, 'base64url'),
  };
}

test('a JWT-SVID has the header and claims specified, ES256 by default', () => {
  const now = at('2030-06-01T12:00:00.700Z');
  const ca = CertificateAuthority.create({ trustDomain: 'example.org', now });
  const token = ca.mintJwtSvid({ spiffeId: ID, audience: 'payments', now });
  const { header, claims, input, signature } = decode(token);
  const key = ca.activeJwtAuthority!;
  assert.deepEqual(header, { alg: 'ES256', kid: key.id, typ: 'JWT' });
  const iat = Math.floor(now.getTime() / 1000);
  assert.deepEqual(claims, { sub: ID, aud: ['payments'], exp: iat + 300, iat });
  assert.equal(signature.length, 64, 'ES256 signatures are raw r||s');
  assert.ok(verify('sha256', input, { key: key.publicKey, dsaEncoding: 'ieee-p1363' }, signature));
  const svid = JwtSvid.parseAndValidate(token, ca.bundle(), ['payments'], { now });
  assert.equal(svid.id.toString(), ID);
});

for (const keyType of KEY_TYPES) {
  test(`JWT keys of type ${keyType} sign tokens that verify against the bundle`, () => {
    const now = at('2030-06-01T12:00:00Z');
    const ca = CertificateAuthority.create({ trustDomain: 'example.org', jwtKeyType: keyType, now });
    const token = ca.mintJwtSvid({ spiffeId: ID, audience: ['a', 'b'], ttlSeconds: 60, now });
    const { header, claims } = decode(token);
    assert.equal(header.alg, { 'ec-p256': 'ES256', 'ec-p384': 'ES384', 'rsa-2048': 'RS256' }[keyType]);
    assert.deepEqual(claims.aud, ['a', 'b']);
    assert.equal(claims.exp, (claims.iat as number) + 60);
    const svid = JwtSvid.parseAndValidate(token, ca.bundle(), ['b'], { now });
    assert.equal(svid.id.toString(), ID);
  });
}

test('JWT expiry is capped at the key expiry', () => {
  const created = at('2030-01-01T00:00:00Z');
  const ca = CertificateAuthority.create({ trustDomain: 'example.org', ttlSeconds: 3600, now: created });
  const token = ca.mintJwtSvid({ spiffeId: ID, audience: 'x', ttlSeconds: 3000, now: at('2030-01-01T00:55:00Z') });
  assert.equal(decode(token).claims.exp, Date.parse('2030-01-01T01:00:00Z') / 1000);
  assert.throws(() => ca.mintJwtSvid({ spiffeId: ID, audience: 'x', now: at('2030-01-01T01:00:00Z') }), { code: 'ERR_CA_EXPIRED' });
});

test('bad JWT requests get specific CaError codes', () => {
  const ca = CertificateAuthority.create({ trustDomain: 'example.org' });
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ spiffeId: 'spiffe://example.org', audience: 'x' }, 'ERR_CA_ID_WITHOUT_PATH'],
    [{ spiffeId: 'spiffe://evil.org/web', audience: 'x' }, 'ERR_CA_FOREIGN_TRUST_DOMAIN'],
    [{ spiffeId: 'nope', audience: 'x' }, 'ERR_CA_BAD_SPIFFE_ID'],
    [{ spiffeId: ID, audience: [] }, 'ERR_CA_BAD_AUDIENCE'],
    [{ spiffeId: ID, audience: '' }, 'ERR_CA_BAD_AUDIENCE'],
    [{ spiffeId: ID }, 'ERR_CA_BAD_AUDIENCE'],
    [{ spiffeId: ID, audience: 'x', ttlSeconds: 0 }, 'ERR_CA_BAD_TTL'],
    [{ spiffeId: ID, audience: 'x', ttlSeconds: 10 ** 10 }, 'ERR_CA_BAD_TTL'],
  ];
  for (const [request, code] of cases) {
    assert.throws(() => ca.mintJwtSvid(request as never), (err: unknown) => err instanceof CaError && err.code === code, JSON.stringify(request));
  }
});
