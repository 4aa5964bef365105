/**
 * X.509-SVID minting on one core: our DER builder (minting from a
 * pre-generated public key) next to the raw limit (ECDSA P-256 signatures
 * with node:crypto) and the naive path (building each certificate with
 * @peculiar/x509), all measured in this run. Prints one JSON line.
 */
import { generateKeyPairSync, randomBytes, sign, webcrypto } from 'node:crypto';
import 'reflect-metadata'; // @peculiar/x509 (through tsyringe) needs a Reflect polyfill loaded first
import * as x509 from '@peculiar/x509';
import { CertificateAuthority } from '../src/ca/index.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);

function rate(seconds: number, fn: () => void): number {
  for (let i = 0; i < 200; i++) fn(); // warm-up
  let count = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(Math.round(seconds * 1e9));
  let now = start;
  while (now < deadline) {
    for (let i = 0; i < 100; i++) fn();
    count += 100;
    now = process.hrtime.bigint();
  }
  return count / (Number(now - start) / 1e9);
}

async function rateAsync(seconds: number, fn: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 20; i++) await fn();
  let count = 0;
  const start = performance.now();
  while (performance.now() - start < seconds * 1000) {
    await fn();
    count++;
  }
  return count / ((performance.now() - start) / 1000);
}

const ca = CertificateAuthority.create({ trustDomain: 'example.org' });
const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const spiffeId = 'spiffe://example.org/ns/default/sa/web';
const mintPerSec = rate(SECONDS, () => {
  ca.mintX509Svid({ spiffeId, publicKey });
});

// Raw limit: one ECDSA P-256 signature over a TBS-sized message, KeyObject parsed once.
const caKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
const tbs = randomBytes(420);
const rawPerSec = rate(SECONDS, () => {
  sign('sha256', tbs, caKey);
});

// The naive path: every certificate built and signed by @peculiar/x509 (WebCrypto keys).
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
const caKeys = (await webcrypto.subtle.generateKey(alg, false, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
const leafKeys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
const caCert = await x509.X509CertificateGenerator.createSelfSigned({
  serialNumber: '01',
  name: 'C=US, O=SPIFFE',
  keys: caKeys,
  signingAlgorithm: alg,
  extensions: [new x509.BasicConstraintsExtension(true, undefined, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true)],
});
const peculiarPerSec = await rateAsync(Math.min(SECONDS, 1), async () => {
  const now = Date.now();
  await x509.X509CertificateGenerator.create({
    serialNumber: randomBytes(16).toString('hex').replace(/^[89a-f]/, '1'),
    subject: 'C=US, O=SPIRE',
    issuer: caCert.subject,
    notBefore: new Date(now - 10_000),
    notAfter: new Date(now + 3_600_000),
    publicKey: leafKeys.publicKey,
    signingKey: caKeys.privateKey,
    signingAlgorithm: alg,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      await x509.SubjectKeyIdentifierExtension.create(leafKeys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
      new x509.SubjectAlternativeNameExtension([{ type: 'url', value: spiffeId }]),
    ],
  });
});

const round = (n: number): number => Math.round(n);
console.log(
  JSON.stringify({
    bench: 'x509-mint',
    mint_per_sec: round(mintPerSec),
    raw_ecdsa_p256_sign_per_sec: round(rawPerSec),
    peculiar_x509_mint_per_sec: round(peculiarPerSec),
    ratio_to_raw: Math.round((mintPerSec / rawPerSec) * 1000) / 1000,
  }),
);
