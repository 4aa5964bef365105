import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { activateAt, advanceAuthorities, CertificateAuthority, prepareAt, type AuthorityStatus } from '../../src/ca/index.js';
import { verifyX509Svid } from '../../src/spiffe/x509/index.js';
import { JwtSvid } from '../../src/spiffe/jwt/index.js';
import { at, opensslTry, tempDir, writePem } from './helpers.js';

const ID = 'spiffe://example.org/web';
const HOUR = 3_600_000;
const statuses = (list: readonly { status: AuthorityStatus }[]): string => list.map((a) => a.status).join(',');
const plus = (d: Date, ms: number): Date => new Date(d.getTime() + ms);

test('thresholds follow SPIRE: prepare at min(lifetime/2, 30 d) before expiry, activate at min(lifetime/6, 7 d)', () => {
  const day = { notBefore: at('2030-01-01T00:00:00Z'), notAfter: at('2030-01-02T00:00:00Z') };
  assert.equal(prepareAt(day).toISOString(), '2030-01-01T12:00:00.000Z');
  assert.equal(activateAt(day).toISOString(), '2030-01-01T20:00:00.000Z');
  const year = { notBefore: at('2030-01-01T00:00:00Z'), notAfter: at('2031-01-01T00:00:00Z') };
  assert.equal(prepareAt(year).toISOString(), '2030-12-02T00:00:00.000Z');
  assert.equal(activateAt(year).toISOString(), '2030-12-25T00:00:00.000Z');
});

test('advanceAuthorities is a pure state machine over fake authorities', () => {
  type Fake = { id: number; status: AuthorityStatus; notBefore: Date; notAfter: Date; withStatus(s: AuthorityStatus): Fake };
  let next = 0;
  const make = (status: AuthorityStatus, now: Date): Fake => {
    const f: Fake = { id: next++, status, notBefore: now, notAfter: plus(now, 24 * HOUR), withStatus: (s) => ({ ...f, status: s }) };
    return f;
  };
  const t0 = at('2030-01-01T00:00:00Z');
  let r = advanceAuthorities<Fake>([], t0, (s) => make(s, t0));
  assert.equal(statuses(r.authorities), 'ACTIVE');
  assert.equal(advanceAuthorities(r.authorities, plus(t0, 11 * HOUR), () => assert.fail('nothing is due')).changed, false);
  const t12 = plus(t0, 12 * HOUR);
  r = advanceAuthorities(r.authorities, t12, (s) => make(s, t12));
  assert.equal(statuses(r.authorities), 'ACTIVE,PREPARED');
  r = advanceAuthorities(r.authorities, plus(t0, 20 * HOUR), () => assert.fail('no new authority'));
  assert.equal(statuses(r.authorities), 'OLD,ACTIVE');
  r = advanceAuthorities(r.authorities, plus(t0, 24 * HOUR), (s) => make(s, plus(t0, 24 * HOUR)));
  assert.equal(statuses(r.authorities), 'ACTIVE,PREPARED', 'the OLD one is dropped at expiry; the next one is prepared at half-life');
  // After a long downtime everything has expired: a fresh ACTIVE one.
  const later = plus(t0, 100 * HOUR);
  r = advanceAuthorities(r.authorities, later, (s) => make(s, later));
  assert.equal(statuses(r.authorities), 'ACTIVE');
  assert.equal(r.authorities[0]!.notBefore.getTime(), later.getTime());
});

test('a CA stepped through several lifetimes: statuses, bundle contents, sequence, and SVIDs across activation', (t) => {
  const dir = tempDir(t);
  const t0 = at('2030-01-01T00:00:00Z');
  let clock = t0;
  const ca = CertificateAuthority.create({ trustDomain: 'example.org', ttlSeconds: 24 * 3600, clock: () => clock });
  const leafKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey;
  assert.equal(ca.sequence, 1);
  assert.equal(statuses(ca.x509Authorities), 'ACTIVE');
  assert.equal(statuses(ca.jwtAuthorities), 'ACTIVE');

  const first = ca.activeX509Authority!;
  const firstJwt = ca.activeJwtAuthority!;
  // Just before half-life: nothing to do.
  assert.equal(ca.advance(new Date(prepareAt(first).getTime() - 1000)), false);
  assert.equal(ca.sequence, 1);

  // Half-life: the next authorities are PREPARED and published at once. (The X.509 CA is
  // backdated 10 s, the JWT key is not: each kind follows its own lifetime.)
  clock = latest(prepareAt(first), prepareAt(firstJwt));
  assert.equal(ca.advance(), true);
  assert.equal(statuses(ca.x509Authorities), 'ACTIVE,PREPARED');
  assert.equal(statuses(ca.jwtAuthorities), 'ACTIVE,PREPARED');
  assert.equal(ca.sequence, 2);
  const bundle2 = ca.bundle();
  assert.equal(bundle2.sequence, 2);
  assert.equal(bundle2.x509Authorities().length, 2);
  assert.equal(bundle2.jwtAuthorities().size, 2);
  const prepared = ca.x509Authorities[1]!;
  assert.ok(bundle2.x509Authorities().some((der) => der.equals(prepared.certificate)));

  // Minting still uses the ACTIVE one.
  clock = new Date(Math.min(activateAt(first).getTime(), activateAt(firstJwt).getTime()) - 1000);
  assert.equal(ca.advance(), false);
  const beforeActivation = ca.mintX509Svid({ spiffeId: ID, publicKey: leafKey });
  const jwtBefore = ca.mintJwtSvid({ spiffeId: ID, audience: 'x' });
  assert.ok(new X509Certificate(beforeActivation.certificate).verify(new X509Certificate(first.certificate).publicKey));

  // Activation: PREPARED → ACTIVE, ACTIVE → OLD; the bundle keys are unchanged, so is the sequence.
  clock = latest(activateAt(first), activateAt(firstJwt));
  assert.equal(ca.advance(), true);
  assert.equal(statuses(ca.x509Authorities), 'OLD,ACTIVE');
  assert.equal(statuses(ca.jwtAuthorities), 'OLD,ACTIVE');
  assert.equal(ca.activeX509Authority!.id, prepared.id);
  assert.equal(ca.sequence, 2);
  const afterActivation = ca.mintX509Svid({ spiffeId: ID, publicKey: leafKey });
  assert.ok(new X509Certificate(afterActivation.certificate).verify(new X509Certificate(prepared.certificate).publicKey));

  // Both SVIDs verify against the bundle after activation: with our verifier and with openssl.
  const bundle = ca.bundle();
  for (const svid of [beforeActivation, afterActivation]) {
    assert.equal(verifyX509Svid(svid.chain, bundle, { now: clock }).id.toString(), ID);
  }
  writeFileSync(join(dir, 'bundle.pem'), bundle.toPem());
  writePem(join(dir, 'before.pem'), 'CERTIFICATE', [beforeActivation.certificate]);
  writePem(join(dir, 'after.pem'), 'CERTIFICATE', [afterActivation.certificate]);
  for (const name of ['before.pem', 'after.pem']) {
    const r = opensslTry(['verify', '-CAfile', 'bundle.pem', '-attime', String(Math.floor(clock.getTime() / 1000)), name], dir);
    assert.ok(r.ok, r.output);
  }
  assert.equal(JwtSvid.parseAndValidate(jwtBefore, bundle, ['x'], { now: clock }).id.toString(), ID);
  const jwtAfter = ca.mintJwtSvid({ spiffeId: ID, audience: 'x' });
  assert.notEqual(JSON.parse(Buffer.from(jwtAfter.split('.')[0]!, 'base64url').toString()).kid, firstJwt.id);
  assert.equal(JwtSvid.parseAndValidate(jwtAfter, bundle, ['x'], { now: clock }).id.toString(), ID);

  // The OLD authority leaves the bundle when it expires (and the next one is prepared then).
  clock = latest(first.notAfter, firstJwt.notAfter);
  assert.equal(ca.advance(), true);
  assert.ok(!ca.x509Authorities.some((a) => a.id === first.id));
  assert.ok(!ca.jwtAuthorities.some((a) => a.id === firstJwt.id));
  assert.ok(ca.sequence > 2);
  assert.ok(!ca.bundle().x509Authorities().some((der) => der.equals(first.certificate)));

  // Walk on through three more lifetimes in 10-minute steps: invariants hold throughout.
  let lastSequence = ca.sequence;
  let lastKeys = bundleKeys(ca);
  const end = plus(clock, 72 * HOUR);
  let activations = 0;
  let lastActive = ca.activeX509Authority!.id;
  while (clock < end) {
    clock = plus(clock, 10 * 60_000);
    ca.advance();
    const x509 = ca.x509Authorities;
    assert.equal(x509.filter((a) => a.status === 'ACTIVE').length, 1, 'exactly one ACTIVE X.509 authority');
    assert.ok(x509.filter((a) => a.status === 'PREPARED').length <= 1);
    assert.ok(x509.length <= 3, `at most OLD, ACTIVE and PREPARED at ${clock.toISOString()}: ${statuses(x509)}`);
    assert.ok(x509.every((a) => a.notAfter > clock), 'no expired authority is kept');
    assert.equal(ca.jwtAuthorities.filter((a) => a.status === 'ACTIVE').length, 1);
    const keys = bundleKeys(ca);
    if (keys !== lastKeys) assert.ok(ca.sequence > lastSequence, 'bundle change bumps the sequence');
    else assert.equal(ca.sequence, lastSequence, 'no bundle change, same sequence');
    assert.equal(ca.bundle().sequence, ca.sequence);
    lastKeys = keys;
    lastSequence = ca.sequence;
    if (ca.activeX509Authority!.id !== lastActive) {
      activations++;
      lastActive = ca.activeX509Authority!.id;
    }
    const svid = ca.mintX509Svid({ spiffeId: ID, publicKey: leafKey });
    verifyX509Svid(svid.chain, ca.bundle(), { now: clock });
  }
  // A successor is prepared at its predecessor's half-life, so a new CA takes over every half lifetime (as in SPIRE).
  assert.equal(activations, 6, 'one activation per half CA lifetime');
});

function latest(a: Date, b: Date): Date {
  return a > b ? a : b;
}

function bundleKeys(ca: CertificateAuthority): string {
  const b = ca.bundle();
  return [...b.x509Authorities().map((d) => d.toString('base64')), ...b.jwtAuthorities().keys()].join(',');
}

test('after a downtime longer than the CA lifetime, advance creates a fresh active CA', () => {
  const t0 = at('2030-01-01T00:00:00Z');
  const ca = CertificateAuthority.create({ trustDomain: 'example.org', ttlSeconds: 3600, now: t0 });
  const old = ca.activeX509Authority!;
  const later = plus(t0, 10 * HOUR);
  assert.throws(() => ca.mintX509Svid({ spiffeId: ID, publicKey: generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey, now: later }), { code: 'ERR_CA_EXPIRED' });
  assert.equal(ca.advance(later), true);
  assert.equal(statuses(ca.x509Authorities), 'ACTIVE');
  assert.notEqual(ca.activeX509Authority!.id, old.id);
  assert.equal(ca.bundle().x509Authorities().length, 1);
  assert.equal(ca.advance(later), false, 'advance is idempotent');
});
