/**
 * Named hostile certificates (SECURITY-CASES.md §1 and case 67), each made by
 * the test CA and each asserting the stable error code.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Bundle } from '../../../src/spiffe/bundle.js';
import { BundleSet } from '../../../src/spiffe/bundle-set.js';
import { verifyX509Svid } from '../../../src/spiffe/x509/index.js';
import { createTestCa, Eku, KeyUsage } from '../../helpers/test-ca.js';
import { assertX509Code } from './assert-code.js';

const HOUR = 3600_000;
const ca = await createTestCa('example.org');
const bundle = ca.bundle();
const id = 'spiffe://example.org/workload';

test('case 1: a leaf with two URI SANs is rejected', async () => {
  const svid = await ca.issue(id, { uris: [id, 'spiffe://example.org/other'] });
  const err = assertX509Code(() => verifyX509Svid(svid.chain, bundle), 'ERR_X509_SVID_MULTIPLE_URI_SANS');
  assert.equal(err.message, 'x509svid: certificate contains more than one URI SAN');
});

test('case 1: a second URI SAN that is not spiffe:// still counts', async () => {
  const svid = await ca.issue(id, { uris: [id, 'https://example.org/'] });
  assertX509Code(() => verifyX509Svid(svid.chain, bundle), 'ERR_X509_SVID_MULTIPLE_URI_SANS');
});

test('case 2: no URI SAN but a DNS SAN equal to the ID is rejected (no fallback)', async () => {
  const svid = await ca.issue(undefined, { dnsNames: ['example.org'], uris: [] });
  const err = assertX509Code(() => verifyX509Svid(svid.chain, bundle), 'ERR_X509_SVID_NO_URI_SAN');
  assert.equal(err.message, 'x509svid: certificate contains no URI SAN');
});

test('case 2: no SAN at all but a CN holding the SPIFFE ID is rejected', async () => {
  const svid = await ca.issue(undefined, { subject: `CN=${id}`, uris: [] });
  assertX509Code(() => verifyX509Svid(svid.chain, bundle), 'ERR_X509_SVID_NO_URI_SAN');
});

test('case 3: a leaf with CA:true is rejected', async () => {
  const svid = await ca.issue(id, { isCa: true });
  const err = assertX509Code(() => verifyX509Svid(svid.chain, bundle), 'ERR_X509_SVID_LEAF_IS_CA');
  assert.equal(err.message, 'x509svid: leaf certificate with CA flag set to true');
});

test('case 4: a leaf with keyCertSign is rejected', async () => {
  const svid = await ca.issue(id, { keyUsage: KeyUsage.digitalSignature | KeyUsage.keyCertSign });
  assertX509Code(() => verifyX509Svid(svid.chain, bundle), 'ERR_X509_SVID_LEAF_KEY_CERT_SIGN');
});

test('case 4: a leaf with cRLSign is rejected', async () => {
  const svid = await ca.issue(id, { keyUsage: KeyUsage.digitalSignature | KeyUsage.cRLSign });
  assertX509Code(() => verifyX509Svid(svid.chain, bundle), 'ERR_X509_SVID_LEAF_CRL_SIGN');
});

test('a leaf without the keyUsage extension is rejected', async () => {
  const svid = await ca.issue(id, { keyUsage: null });
  assertX509Code(() => verifyX509Svid(svid.chain, bundle), 'ERR_X509_SVID_LEAF_NO_KEY_USAGE');
});

test('a leaf whose keyUsage lacks digitalSignature is rejected', async () => {
  const svid = await ca.issue(id, { keyUsage: KeyUsage.keyEncipherment });
  assertX509Code(() => verifyX509Svid(svid.chain, bundle), 'ERR_X509_SVID_LEAF_NO_DIGITAL_SIGNATURE');
});

test('case 5: an "intermediate" with CA:false that signs the leaf is rejected', async () => {
  const notCa = await ca.childCa({ isCa: false, keyUsage: KeyUsage.digitalSignature | KeyUsage.keyCertSign });
  const svid = await notCa.issue(id);
  const err = assertX509Code(() => verifyX509Svid(svid.chain, bundle), 'ERR_X509_SVID_SIGNER_NOT_CA');
  assert.equal(err.message, 'x509svid: signing certificate must have CA flag set to true');
});

test('case 5: an "intermediate" without basicConstraints is rejected', async () => {
  const noBc = await ca.childCa({ isCa: null });
  const svid = await noBc.issue(id);
  assertX509Code(() => verifyX509Svid(svid.chain, bundle), 'ERR_X509_SVID_SIGNER_NOT_CA');
});

test('case 6: an intermediate without keyCertSign is rejected', async () => {
  const noSign = await ca.childCa({ keyUsage: KeyUsage.cRLSign });
  const svid = await noSign.issue(id);
  assertX509Code(() => verifyX509Svid(svid.chain, bundle), 'ERR_X509_SVID_SIGNER_NO_KEY_CERT_SIGN');
});

test('case 7: a leaf whose ID has no path is rejected', async () => {
  const svid = await ca.issue('spiffe://example.org');
  assertX509Code(() => verifyX509Svid(svid.chain, bundle), 'ERR_X509_SVID_ID_WITHOUT_PATH');
});

test('case 8: a leaf of a trust domain with no bundle is rejected', async () => {
  const svid = await ca.issue('spiffe://evil.test/x');
  const err = assertX509Code(() => verifyX509Svid(svid.chain, bundle), 'ERR_X509_SVID_NO_BUNDLE');
  assert.match(err.message, /no X\.509 bundle found for trust domain: "evil\.test"/);
});

test("case 8: a leaf for evil.test chained to example.org's root is rejected even when evil.test has a bundle", async () => {
  const evil = await createTestCa('evil.test');
  const set = new BundleSet([bundle, evil.bundle()]);
  const svid = await ca.issue('spiffe://evil.test/x');
  assertX509Code(() => verifyX509Svid(svid.chain, set), 'ERR_X509_SVID_UNTRUSTED');
});

test('case 8: a source that answers with another trust domain\'s bundle is not trusted', async () => {
  const svid = await ca.issue('spiffe://evil.test/x');
  const lying = { getX509BundleForTrustDomain: () => bundle };
  assertX509Code(() => verifyX509Svid(svid.chain, lying), 'ERR_X509_SVID_NO_BUNDLE');
});

test('case 10: an expired leaf is rejected', async () => {
  const svid = await ca.issue(id, { notBefore: new Date(Date.now() - 2 * HOUR), notAfter: new Date(Date.now() - HOUR) });
  assertX509Code(() => verifyX509Svid(svid.chain, bundle), 'ERR_X509_SVID_EXPIRED');
});

test('case 10: a leaf that is not yet valid is rejected', async () => {
  const svid = await ca.issue(id, { notBefore: new Date(Date.now() + HOUR), notAfter: new Date(Date.now() + 2 * HOUR) });
  assertX509Code(() => verifyX509Svid(svid.chain, bundle), 'ERR_X509_SVID_NOT_YET_VALID');
});

test('case 10: the injected clock decides, for the leaf', async () => {
  const svid = await ca.issue(id);
  assertX509Code(() => verifyX509Svid(svid.chain, bundle, { now: new Date(Date.now() + 2 * HOUR) }), 'ERR_X509_SVID_EXPIRED');
  assertX509Code(() => verifyX509Svid(svid.chain, bundle, { now: new Date(Date.now() - 2 * HOUR) }), 'ERR_X509_SVID_NOT_YET_VALID');
});

test('case 10: an expired intermediate is rejected', async () => {
  const old = await ca.childCa({ notBefore: new Date(Date.now() - 3 * HOUR), notAfter: new Date(Date.now() - HOUR) });
  const svid = await old.issue(id);
  assertX509Code(() => verifyX509Svid(svid.chain, bundle), 'ERR_X509_SVID_EXPIRED');
});

test('case 10: an intermediate that is not yet valid is rejected', async () => {
  const early = await ca.childCa({ notBefore: new Date(Date.now() + HOUR), notAfter: new Date(Date.now() + 3 * HOUR) });
  const svid = await early.issue(id);
  assertX509Code(() => verifyX509Svid(svid.chain, bundle), 'ERR_X509_SVID_NOT_YET_VALID');
});

test('case 10: an expired root is rejected', async () => {
  const oldRoot = await createTestCa('example.org', { notBefore: new Date(Date.now() - 3 * HOUR), notAfter: new Date(Date.now() - HOUR) });
  const svid = await oldRoot.issue(id);
  assertX509Code(() => verifyX509Svid(svid.chain, oldRoot.bundle()), 'ERR_X509_SVID_EXPIRED');
});

test('an unknown root is rejected', async () => {
  const stranger = await createTestCa('example.org');
  const svid = await stranger.issue(id);
  const err = assertX509Code(() => verifyX509Svid(svid.chain, bundle), 'ERR_X509_SVID_UNTRUSTED');
  assert.match(err.message, /signed by unknown authority/);
});

test('case 67: a presented self-signed "root" never ends a path; roots come only from the bundle', async () => {
  const stranger = await createTestCa('example.org');
  const svid = await stranger.issue(id);
  assertX509Code(() => verifyX509Svid([...svid.chain, stranger.der], bundle), 'ERR_X509_SVID_UNTRUSTED');
});

test('case 67: a root impostor with the same subject but another key fails on the signature', async () => {
  const impostor = await createTestCa('example.org', { subject: ca.subject });
  const svid = await impostor.issue(id);
  assertX509Code(() => verifyX509Svid(svid.chain, bundle), 'ERR_X509_SVID_BAD_SIGNATURE');
});

test('case 67: unrelated extra certificates are ignored when a valid path exists (as go-spiffe does)', async () => {
  const inter = await ca.childCa();
  const svid = await inter.issue(id);
  const stranger = await createTestCa('other.test');
  const extra = await stranger.childCa();
  const result = verifyX509Svid([...svid.chain, extra.der, stranger.der], bundle);
  assert.equal(result.id.toString(), id);
  assert.deepEqual(result.chain, [svid.der, inter.der, ca.der]);
});

test('case 67: extra certificates must still be well-formed', async () => {
  const svid = await ca.issue(id);
  assertX509Code(() => verifyX509Svid([...svid.chain, Buffer.from([0x30, 0x03, 0x02, 0x01])], bundle), 'ERR_X509_SVID_MALFORMED');
});

test('case 67: a loop of intermediates is bounded and rejected', async () => {
  // Two CAs that sign each other (same subjects, cross-issued): the search must stop.
  const a = await ca.childCa({ subject: 'CN=loop a' });
  const svid = await a.issue(id);
  const stranger = await createTestCa('example.org', { subject: 'CN=loop b' });
  const bUnderA = await a.childCa({ subject: 'CN=loop b', keys: stranger.cert.keys });
  const aUnderB = await stranger.childCa({ subject: 'CN=loop a', keys: a.cert.keys });
  // Present a chain that only loops between a and b, without the real a.
  assertX509Code(() => verifyX509Svid([svid.der, aUnderB.der, bUnderA.der], bundle), 'ERR_X509_SVID_UNTRUSTED');
});

test('case 67: a self-issued CA presented many times is tried once per path position, within bounds', async () => {
  const stranger = await createTestCa('example.org', { subject: 'CN=self issued' });
  const svid = await stranger.issue(id);
  assertX509Code(() => verifyX509Svid([svid.der, ...Array(15).fill(stranger.der)], bundle), 'ERR_X509_SVID_UNTRUSTED');
});

test('a chain longer than the path limit is rejected', async () => {
  let issuer = ca;
  for (let i = 0; i < 8; i++) issuer = await issuer.childCa();
  const svid = await issuer.issue(id);
  assertX509Code(() => verifyX509Svid(svid.chain, bundle), 'ERR_X509_SVID_CHAIN_TOO_LONG');
  // Six intermediates (eight certificates with leaf and root) is the longest accepted path.
  const six = await (async () => {
    let at = ca;
    for (let i = 0; i < 6; i++) at = await at.childCa();
    return at.issue(id);
  })();
  assert.equal(verifyX509Svid(six.chain, bundle).chain.length, 8);
});

test('more presented certificates than the cap are refused before parsing', async () => {
  const svid = await ca.issue(id);
  assertX509Code(() => verifyX509Svid(Array(17).fill(svid.der), bundle), 'ERR_X509_SVID_CHAIN_TOO_LONG');
});

test('pathLenConstraint 0 on the root forbids an intermediate', async () => {
  const strict = await createTestCa('example.org', { pathLen: 0 });
  const inter = await strict.childCa();
  const svid = await inter.issue(id);
  assertX509Code(() => verifyX509Svid(svid.chain, strict.bundle()), 'ERR_X509_SVID_PATH_LEN_EXCEEDED');
  const direct = await strict.issue(id);
  assert.equal(verifyX509Svid(direct.chain, strict.bundle()).id.toString(), id);
});

test('case 14: a NUL inside the URI SAN is rejected', async () => {
  const svid = await ca.issue(id, { uris: ['spiffe://example.org/victim\0evil'] });
  const err = assertX509Code(() => verifyX509Svid(svid.chain, bundle), 'ERR_X509_SVID_BAD_ID');
  assert.ok(!err.message.includes('\0'));
});

test('case 14: a NUL right after the trust domain is rejected', async () => {
  const svid = await ca.issue(id, { uris: ['spiffe://example.org\0.evil/x'] });
  assertX509Code(() => verifyX509Svid(svid.chain, bundle), 'ERR_X509_SVID_BAD_ID');
});

test('case 57: CR/LF inside the URI SAN is rejected, so it can never reach a forwarded identity header', async () => {
  for (const uri of ['spiffe://example.org/web\r\nx-meshward-peer-id: spiffe://example.org/admin', 'spiffe://example.org/web\nx', 'spiffe://example.org/web\r']) {
    const svid = await ca.issue(id, { uris: [uri] });
    const err = assertX509Code(() => verifyX509Svid(svid.chain, bundle), 'ERR_X509_SVID_BAD_ID');
    assert.ok(!/[\r\n]/.test(err.message), 'the error message carries no raw CR/LF');
  }
});

test('case 11: a URI SAN with an uppercase trust domain is rejected', async () => {
  const svid = await ca.issue(id, { uris: ['spiffe://Example.org/workload'] });
  assertX509Code(() => verifyX509Svid(svid.chain, bundle), 'ERR_X509_SVID_BAD_ID');
});

test('case 11: non-ASCII bytes in the URI SAN are rejected', async () => {
  const svid = await ca.issue(id, { uris: ['spiffe://example.org/w\u00e9b'] });
  assertX509Code(() => verifyX509Svid(svid.chain, bundle), 'ERR_X509_SVID_BAD_ID');
});

test('a non-SPIFFE URI SAN is rejected', async () => {
  const svid = await ca.issue(id, { uris: ['https://example.org/workload'] });
  assertX509Code(() => verifyX509Svid(svid.chain, bundle), 'ERR_X509_SVID_BAD_ID');
});

test('case 16: a leaf whose EKU is only emailProtection is rejected', async () => {
  const svid = await ca.issue(id, { eku: [Eku.emailProtection] });
  assertX509Code(() => verifyX509Svid(svid.chain, bundle), 'ERR_X509_SVID_LEAF_EXT_KEY_USAGE');
});

test('case 16: a leaf with serverAuth but not clientAuth is rejected', async () => {
  const svid = await ca.issue(id, { eku: [Eku.serverAuth] });
  assertX509Code(() => verifyX509Svid(svid.chain, bundle), 'ERR_X509_SVID_LEAF_EXT_KEY_USAGE');
});

test('case 12: a leaf outside the URI name constraints of its intermediate is rejected', async () => {
  const constrained = await ca.childCa({ nameConstraints: { permittedUris: ['td-a.test'] } });
  const svid = await constrained.issue('spiffe://td-b.test/x');
  const set = new BundleSet([new Bundle('td-a.test', { x509Authorities: [ca.der] }), new Bundle('td-b.test', { x509Authorities: [ca.der] })]);
  assertX509Code(() => verifyX509Svid(svid.chain, set), 'ERR_X509_SVID_NAME_CONSTRAINTS');
  const inside = await constrained.issue('spiffe://td-a.test/x');
  assert.equal(verifyX509Svid(inside.chain, set).id.toString(), 'spiffe://td-a.test/x');
});

test('case 12: an excluded URI subtree is enforced', async () => {
  const constrained = await ca.childCa({ nameConstraints: { excludedUris: ['.org'] } });
  const svid = await constrained.issue(id);
  assertX509Code(() => verifyX509Svid(svid.chain, bundle), 'ERR_X509_SVID_NAME_CONSTRAINTS');
});

test('case 12: DNS name constraints apply to DNS SANs', async () => {
  const constrained = await ca.childCa({ nameConstraints: { permittedDns: ['example.org'] } });
  const bad = await constrained.issue(id, { dnsNames: ['evil.com'] });
  assertX509Code(() => verifyX509Svid(bad.chain, bundle), 'ERR_X509_SVID_NAME_CONSTRAINTS');
  const good = await constrained.issue(id, { dnsNames: ['api.example.org'] });
  assert.equal(verifyX509Svid(good.chain, bundle).id.toString(), id);
});

test('case 12: name constraints of a type we do not evaluate fail closed', async () => {
  const dn = Buffer.from('3011310f300d06035504030c066f6e6c792d61', 'hex'); // CN=only-a
  const constrained = await ca.childCa({ nameConstraints: { permittedDirectoryNames: [dn] } });
  const svid = await constrained.issue(id);
  assertX509Code(() => verifyX509Svid(svid.chain, bundle), 'ERR_X509_SVID_NAME_CONSTRAINTS');
});

test('case 13: a DNS SAN injecting ", URI:spiffe://td/admin" is not read as a URI SAN', async () => {
  const svid = await ca.issue(undefined, { uris: [], dnsNames: ['a.example.org, URI:spiffe://example.org/admin'] });
  assertX509Code(() => verifyX509Svid(svid.chain, bundle), 'ERR_X509_SVID_NO_URI_SAN');
  const withId = await ca.issue(id, { dnsNames: ['a.example.org, URI:spiffe://example.org/admin'] });
  assert.equal(verifyX509Svid(withId.chain, bundle).id.toString(), id);
});

test('SHA-1 signatures are refused', async () => {
  const svid = await ca.issue(id, { hash: 'SHA-1' });
  assertX509Code(() => verifyX509Svid(svid.chain, bundle), 'ERR_X509_SVID_UNSUPPORTED_ALGORITHM');
});

test('RSA keys under 2048 bits are refused', async () => {
  const weak = await createTestCa('example.org', { keyType: 'rsa-1024' });
  const svid = await weak.issue(id);
  assertX509Code(() => verifyX509Svid(svid.chain, weak.bundle()), 'ERR_X509_SVID_UNSUPPORTED_KEY');
  const weakLeaf = await ca.issue(id, { keyType: 'rsa-1024' });
  assertX509Code(() => verifyX509Svid(weakLeaf.chain, bundle), 'ERR_X509_SVID_UNSUPPORTED_KEY');
});

test('a flipped bit in the leaf signature is rejected', async () => {
  const svid = await ca.issue(id);
  const der = Buffer.from(svid.der);
  der[der.length - 5]! ^= 0x01;
  const code = (() => {
    try {
      verifyX509Svid([der], bundle);
      return 'accepted';
    } catch (err) {
      return (err as { code?: string }).code;
    }
  })();
  // The flip lands in the ECDSA signature's DER: either its encoding or its value breaks.
  assert.ok(code === 'ERR_X509_SVID_BAD_SIGNATURE' || code === 'ERR_X509_SVID_MALFORMED', String(code));
});

test('an unknown critical extension is rejected; an unknown non-critical one is ignored', async () => {
  const { Extension } = await import('@peculiar/x509');
  const critical = await ca.issue(id, { extraExtensions: [new Extension('1.2.3.4.5', true, Buffer.from([0x05, 0x00]))] });
  assertX509Code(() => verifyX509Svid(critical.chain, bundle), 'ERR_X509_SVID_UNKNOWN_CRITICAL_EXTENSION');
  const plain = await ca.issue(id, { extraExtensions: [new Extension('1.2.3.4.5', false, Buffer.from([0x05, 0x00]))] });
  assert.equal(verifyX509Svid(plain.chain, bundle).id.toString(), id);
});

test('an empty chain is rejected', () => {
  assertX509Code(() => verifyX509Svid([], bundle), 'ERR_X509_SVID_EMPTY_CHAIN');
  assertX509Code(() => verifyX509Svid('no pem here', bundle), 'ERR_X509_SVID_EMPTY_CHAIN');
});
