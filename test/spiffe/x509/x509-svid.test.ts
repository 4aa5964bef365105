import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { inspect } from 'node:util';
import { encodePem } from '../../../src/spiffe/pem.js';
import { X509Svid } from '../../../src/spiffe/x509/index.js';
import { createTestCa } from '../../helpers/test-ca.js';
import { assertX509Code } from './assert-code.js';

const id = 'spiffe://example.org/workload';
const ca = await createTestCa('example.org');
const inter = await ca.childCa();
const svid = await inter.issue(id, { notAfter: new Date('2030-01-02T03:04:05Z') });

test('parses PEM chain and PEM key; certificates stay leaf first', () => {
  const parsed = X509Svid.parse(svid.chainPem, svid.privateKeyPem, { hint: 'internal' });
  assert.equal(parsed.id.toString(), id);
  assert.deepEqual(parsed.certificates, [svid.der, inter.der]);
  assert.equal(parsed.expiresAt.toISOString(), '2030-01-02T03:04:05.000Z');
  assert.equal(parsed.hint, 'internal');
  assert.equal(parsed.privateKey.type, 'private');
  assert.equal(parsed.getX509Svid(), parsed);
  assert.equal(parsed.certificatesPem(), svid.chainPem);
  assert.equal(X509Svid.parse(parsed.certificatesPem(), parsed.privateKeyPem()).id.toString(), id);
});

test('parses concatenated DER and a DER key', () => {
  const parsed = X509Svid.parse(Buffer.concat(svid.chain), svid.privateKeyDer);
  assert.deepEqual(parsed.certificates, [svid.der, inter.der]);
  assert.equal(parsed.hint, undefined);
});

test('the certificates are copies, so later changes to the input do not reach the SVID', () => {
  const input = Buffer.concat(svid.chain);
  const parsed = X509Svid.parse(input, svid.privateKeyDer);
  input.fill(0);
  assert.deepEqual(parsed.certificates[0], svid.der);
});

test('a key that does not match the leaf is rejected', async () => {
  const other = await inter.issue(id);
  assertX509Code(() => X509Svid.parse(svid.chainPem, other.privateKeyPem), 'ERR_X509_SVID_KEY_MISMATCH');
});

test('chain order matters: the intermediate first is not a leaf', () => {
  assertX509Code(() => X509Svid.parse([inter.der, svid.der], svid.privateKeyDer), 'ERR_X509_SVID_ID_WITHOUT_PATH');
});

test('a signing certificate without the CA flag is rejected', async () => {
  const other = await inter.issue('spiffe://example.org/other');
  assertX509Code(() => X509Svid.parse([svid.der, other.der], svid.privateKeyDer), 'ERR_X509_SVID_SIGNER_NOT_CA');
});

test('leaf profile checks apply (CA leaf)', async () => {
  const bad = await inter.issue(id, { isCa: true });
  assertX509Code(() => X509Svid.parse(bad.chainPem, bad.privateKeyPem), 'ERR_X509_SVID_LEAF_IS_CA');
});

test('non-PKCS#8 keys are rejected: SEC1 "EC PRIVATE KEY" and PKCS#1', () => {
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const sec1 = ec.export({ type: 'sec1', format: 'pem' }).toString();
  const err = assertX509Code(() => X509Svid.parse(svid.chainPem, sec1), 'ERR_X509_SVID_BAD_PRIVATE_KEY');
  assert.match(err.message, /PKCS#8/);
  const sec1Der = ec.export({ type: 'sec1', format: 'der' });
  assertX509Code(() => X509Svid.parse(svid.chainPem, sec1Der), 'ERR_X509_SVID_BAD_PRIVATE_KEY');
});

test('encrypted PKCS#8 keys are rejected', () => {
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const encrypted = ec.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'secret' }).toString();
  const err = assertX509Code(() => X509Svid.parse(svid.chainPem, encrypted), 'ERR_X509_SVID_BAD_PRIVATE_KEY');
  assert.match(err.message, /encrypted/);
  const encryptedDer = ec.export({ type: 'pkcs8', format: 'der', cipher: 'aes-256-cbc', passphrase: 'secret' });
  assertX509Code(() => X509Svid.parse(svid.chainPem, encryptedDer), 'ERR_X509_SVID_BAD_PRIVATE_KEY');
});

test('a garbage key is rejected without echoing it', () => {
  const junk = encodePem('PRIVATE KEY', Buffer.from('not a key at all, definitely-secret'));
  const err = assertX509Code(() => X509Svid.parse(svid.chainPem, junk), 'ERR_X509_SVID_BAD_PRIVATE_KEY');
  assert.ok(!err.message.includes('definitely-secret'));
});

test('the private key never appears in inspect or JSON output', () => {
  const parsed = X509Svid.parse(svid.chainPem, svid.privateKeyPem);
  const pemBody = svid.privateKeyPem.split('\n')[1]!;
  const jwkD = parsed.privateKey.export({ format: 'jwk' }).d!;
  for (const text of [inspect(parsed), inspect(parsed, { showHidden: true, depth: 10 }), JSON.stringify(parsed), String(Object.keys(parsed))]) {
    assert.ok(!text.includes(pemBody.slice(0, 20)), text);
    assert.ok(!text.includes(jwkD), text);
  }
  assert.match(inspect(parsed), /privateKey: \[redacted\]/);
  assert.deepEqual(JSON.parse(JSON.stringify(parsed)), { id, expiresAt: '2030-01-02T03:04:05.000Z', certificates: 2 });
});
