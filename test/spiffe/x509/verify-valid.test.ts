import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Bundle } from '../../../src/spiffe/bundle.js';
import { BundleSet } from '../../../src/spiffe/bundle-set.js';
import { verifyX509Svid } from '../../../src/spiffe/x509/index.js';
import { createTestCa, type KeyType } from '../../helpers/test-ca.js';

const id = 'spiffe://example.org/workload';

test('a leaf directly under the root verifies, with the path leaf → root', async () => {
  const ca = await createTestCa('example.org');
  const svid = await ca.issue(id);
  const result = verifyX509Svid(svid.chain, ca.bundle());
  assert.equal(result.id.toString(), id);
  assert.deepEqual(result.chain, [svid.der, ca.der]);
});

test('a leaf under two intermediates verifies', async () => {
  const ca = await createTestCa('example.org');
  const mid = await ca.childCa();
  const low = await mid.childCa();
  const svid = await low.issue(id);
  const result = verifyX509Svid(svid.chain, ca.bundle());
  assert.deepEqual(result.chain, [svid.der, low.der, mid.der, ca.der]);
});

for (const keyType of ['ec-p256', 'ec-p384', 'rsa-2048'] as KeyType[]) {
  test(`${keyType} keys verify, for the CA and for the leaf`, async () => {
    const ca = await createTestCa('example.org', { keyType });
    const inter = await ca.childCa({ keyType });
    const svid = await inter.issue(id, { keyType });
    assert.equal(verifyX509Svid(svid.chain, ca.bundle()).id.toString(), id);
  });
}

test('SHA-384 and SHA-512 signatures verify', async () => {
  const ca = await createTestCa('example.org', { keyType: 'ec-p384' });
  for (const hash of ['SHA-384', 'SHA-512']) {
    const svid = await ca.issue(id, { hash });
    assert.equal(verifyX509Svid(svid.chain, ca.bundle()).id.toString(), id);
  }
});

test('PEM text, concatenated DER, a DER list and PEM bytes are all accepted', async () => {
  const ca = await createTestCa('example.org');
  const inter = await ca.childCa();
  const svid = await inter.issue(id);
  const bundle = ca.bundle();
  for (const input of [svid.chainPem, Buffer.concat(svid.chain), svid.chain, Buffer.from(svid.chainPem), svid.chain.map((b) => new Uint8Array(b))]) {
    assert.equal(verifyX509Svid(input, bundle).id.toString(), id);
  }
});

test('the bundle is chosen by the leaf trust domain from a BundleSet', async () => {
  const a = await createTestCa('a.test');
  const b = await createTestCa('b.test');
  const set = new BundleSet([a.bundle(), b.bundle()]);
  assert.equal(verifyX509Svid((await a.issue('spiffe://a.test/x')).chain, set).id.toString(), 'spiffe://a.test/x');
  assert.equal(verifyX509Svid((await b.issue('spiffe://b.test/y')).chain, set).id.toString(), 'spiffe://b.test/y');
});

test('a bundle with several roots finds the right one; the root cache follows bundle rotation', async () => {
  const old = await createTestCa('example.org');
  const current = await createTestCa('example.org');
  const both = new Bundle('example.org', { x509Authorities: [old.der, current.der] });
  const svid = await current.issue(id);
  assert.equal(verifyX509Svid(svid.chain, both).id.toString(), id);
  const onlyOld = both.with({ x509Authorities: [old.der] });
  assert.throws(() => verifyX509Svid(svid.chain, onlyOld), { code: 'ERR_X509_SVID_UNTRUSTED' });
});

test('a leaf without EKU verifies (EKU is a SHOULD); DNS SANs are allowed', async () => {
  const ca = await createTestCa('example.org');
  const svid = await ca.issue(id, { eku: null, dnsNames: ['web.example.org', 'localhost'] });
  assert.equal(verifyX509Svid(svid.chain, ca.bundle()).id.toString(), id);
});

test('validity bounds are inclusive', async () => {
  const ca = await createTestCa('example.org');
  const notBefore = new Date(Math.floor(Date.now() / 1000) * 1000 - 10_000);
  const notAfter = new Date(notBefore.getTime() + 60_000);
  const svid = await ca.issue(id, { notBefore, notAfter });
  assert.equal(verifyX509Svid(svid.chain, ca.bundle(), { now: notBefore }).id.toString(), id);
  assert.equal(verifyX509Svid(svid.chain, ca.bundle(), { now: notAfter }).id.toString(), id);
  assert.throws(() => verifyX509Svid(svid.chain, ca.bundle(), { now: new Date(notAfter.getTime() + 1000) }), { code: 'ERR_X509_SVID_EXPIRED' });
});

test('a chain that carries the root itself still verifies', async () => {
  const ca = await createTestCa('example.org');
  const svid = await ca.issue(id);
  assert.deepEqual(verifyX509Svid([...svid.chain, ca.der], ca.bundle()).chain, [svid.der, ca.der]);
});
