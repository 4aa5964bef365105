// Tokens minted by our CA (src/ca) validate, through the live bundle and
// through the SPIFFE bundle document a verifier would receive.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Bundle } from '../../../src/spiffe/bundle.js';
import { CertificateAuthority, KEY_TYPES } from '../../../src/ca/index.js';
import { JwtSvid } from '../../../src/spiffe/jwt/index.js';
import { assertRejects } from './helpers.js';

const now = new Date('2030-01-01T00:00:00Z');

for (const jwtKeyType of KEY_TYPES) {
  test(`a JWT-SVID minted with a ${jwtKeyType} key validates`, () => {
    const ca = CertificateAuthority.create({ trustDomain: 'example.org', jwtKeyType, now });
    const token = ca.mintJwtSvid({ spiffeId: 'spiffe://example.org/api', audience: ['reports', 'billing'], now });
    const fromDocument = Bundle.parse(JSON.stringify(ca.bundle().toJSON()), 'example.org');
    for (const bundle of [ca.bundle(), fromDocument]) {
      const svid = JwtSvid.parseAndValidate(token, bundle, 'billing', { now });
      assert.equal(svid.id.toString(), 'spiffe://example.org/api');
      assert.deepEqual(svid.audience, ['reports', 'billing']);
      assert.equal(svid.expiresAt.getTime(), now.getTime() + 300_000);
    }
    assertRejects(() => JwtSvid.parseAndValidate(token, ca.bundle(), 'other', { now }), 'ERR_JWT_SVID_AUDIENCE_MISMATCH', token);
    assertRejects(() => JwtSvid.parseAndValidate(token, ca.bundle(), 'reports', { now: new Date(now.getTime() + 331_000) }), 'ERR_JWT_SVID_EXPIRED', token);
  });
}

test("another trust domain's CA cannot vouch for our subjects", () => {
  const ours = CertificateAuthority.create({ trustDomain: 'example.org', now });
  const theirs = CertificateAuthority.create({ trustDomain: 'example.org', now }); // same name, different keys
  const token = theirs.mintJwtSvid({ spiffeId: 'spiffe://example.org/api', audience: 'reports', now });
  assertRejects(() => JwtSvid.parseAndValidate(token, ours.bundle(), 'reports', { now }), 'ERR_JWT_SVID_UNKNOWN_KEY_ID', token);
});
