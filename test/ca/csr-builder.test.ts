import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCsr } from '../../src/ca/csr-builder.js';
import { publicKeyFromCsr } from '../../src/ca/index.js';
import { encodePem } from '../../src/spiffe/pem.js';

const keys = {
  'ec-p256': () => generateKeyPairSync('ec', { namedCurve: 'P-256' }),
  'ec-p384': () => generateKeyPairSync('ec', { namedCurve: 'P-384' }),
  'rsa-2048': () => generateKeyPairSync('rsa', { modulusLength: 2048 }),
};

for (const [name, make] of Object.entries(keys)) {
  test(`a ${name} CSR verifies with openssl and yields its public key to our CSR reader`, () => {
    const { privateKey, publicKey } = make();
    const der = createCsr(privateKey, publicKey);
    const dir = mkdtempSync(join(tmpdir(), 'mw-csr-'));
    writeFileSync(join(dir, 'req.pem'), encodePem('CERTIFICATE REQUEST', der));
    const r = spawnSync('openssl', ['req', '-in', join(dir, 'req.pem'), '-noout', '-verify'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout + r.stderr, /verify OK/);
    const extracted = publicKeyFromCsr(der);
    assert.ok(extracted.equals(publicKey));
  });
}

test('a CSR whose signature does not match its key is refused by the reader', () => {
  const a = keys['ec-p256']();
  const b = keys['ec-p256']();
  const forged = createCsr(b.privateKey, a.publicKey);
  assert.throws(() => publicKeyFromCsr(forged), /signature/i);
});

test('keys we do not allow cannot make a CSR', () => {
  const ed = generateKeyPairSync('ed25519');
  assert.throws(() => createCsr(ed.privateKey, ed.publicKey));
});

test('importSpki (the fast JWK path for EC keys) yields the same key and SPKI bytes as Node', async () => {
  const { importSpki, spkiOf } = await import('../../src/ca/spki.js');
  for (const make of [keys['ec-p256'], keys['ec-p384'], keys['rsa-2048']]) {
    const { publicKey } = make();
    const der = publicKey.export({ type: 'spki', format: 'der' });
    const imported = importSpki(der);
    assert.ok(imported.equals(publicKey));
    assert.ok(spkiOf(imported).equals(der));
  }
  assert.throws(() => importSpki(Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200' + '04' + '00'.repeat(64), 'hex')));
});
