// The token is a bearer secret: it never shows in inspect, JSON, or errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect, format } from 'node:util';
import { JwtSvid, JwtSvidError } from '../../../src/spiffe/jwt/index.js';
import { MeshwardError } from '../../../src/errors.js';
import { AUD, NOW, NOW_DATE, SUB, bundle, token } from './helpers.js';

const t = token('ES256', { claims: { aud: [AUD, 'other'] } });
const svid = JwtSvid.parseAndValidate(t, bundle, AUD, { now: NOW_DATE, hint: 'internal' });
const signature = t.split('.')[2]!;
const payload = t.split('.')[1]!;

function assertNoToken(text: string): void {
  assert.ok(!text.includes(t), 'holds the token');
  assert.ok(!text.includes(signature), 'holds the signature');
  assert.ok(!text.includes(payload), 'holds the payload segment');
}

test('util.inspect shows the identity but redacts the token', () => {
  for (const text of [inspect(svid), inspect(svid, { showHidden: true, depth: Infinity }), inspect({ nested: [svid] }), format('%o %O %s', svid, svid, svid)]) {
    assertNoToken(text);
  }
  const shown = inspect(svid);
  assert.match(shown, /spiffe:\/\/example\.org\/workload/);
  assert.match(shown, /redacted/);
});

test('JSON.stringify leaves the token out and keeps the rest', () => {
  const json = JSON.stringify(svid);
  assertNoToken(json);
  const parsed = JSON.parse(json) as Record<string, unknown>;
  assert.equal(parsed.id, SUB);
  assert.deepEqual(parsed.audience, [AUD, 'other']);
  assert.equal(parsed.expiresAt, new Date((NOW + 300) * 1000).toISOString());
  assert.equal(parsed.hint, 'internal');
  assert.equal((parsed.claims as Record<string, unknown>).sub, SUB);
});

test('String(), template literals, Object.keys and spreading do not reveal it', () => {
  assertNoToken(String(svid));
  assertNoToken(`${svid}`);
  assertNoToken(JSON.stringify({ ...svid }));
  assertNoToken(Object.keys(svid).join(','));
  assertNoToken(JSON.stringify(Object.getOwnPropertyDescriptors(svid)));
  assertNoToken(JSON.stringify(structuredClone({ ...svid })));
});

test('marshal returns the token', () => {
  assert.equal(svid.marshal(), t);
});

test('errors are JwtSvidError and MeshwardError, with a stable code and no token', () => {
  const tampered = t.slice(0, -2) + (t.endsWith('AA') ? 'BA' : 'AA');
  try {
    JwtSvid.parseAndValidate(tampered, bundle, AUD, { now: NOW_DATE });
    assert.fail('accepted a tampered token');
  } catch (err) {
    assert.ok(err instanceof JwtSvidError);
    assert.ok(err instanceof MeshwardError);
    assert.equal(err.name, 'JwtSvidError');
    assert.equal(err.code, 'ERR_JWT_SVID_BAD_SIGNATURE');
    assert.equal(err.message, 'jwtsvid: unable to validate JWT signature');
    assertNoToken(inspect(err));
    assertNoToken(err.stack ?? '');
    assertNoToken(JSON.stringify(err));
  }
});
