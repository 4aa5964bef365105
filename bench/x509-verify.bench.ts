/**
 * X.509-SVID chain verification with cached roots, next to the raw limit:
 * one ECDSA P-256 signature check (the verifier's only crypto for a leaf
 * directly under the root). Setup (minting) is not measured.
 * Prints one JSON line.
 */
import { createPublicKey, createSign, generateKeyPairSync, verify } from 'node:crypto';
import { verifyX509Svid } from '../src/spiffe/x509/verify.js';
import { createTestCa } from '../test/helpers/test-ca.js';

// Short rounds, alternating the two measurements, best round of each: other
// processes on the machine then skew both figures alike instead of one.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 8);
const DURATION_MS = Number(process.env.BENCH_MS ?? 400);

function rate(fn: () => void): number {
  let count = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(DURATION_MS) * 1_000_000n;
  let now = start;
  while (now < deadline) {
    for (let i = 0; i < 100; i++) fn();
    count += 100;
    now = process.hrtime.bigint();
  }
  return count / (Number(now - start) / 1e9);
}

const ca = await createTestCa('example.org');
const svid = await ca.issue('spiffe://example.org/bench');
const bundle = ca.bundle();
const chain = svid.chain;
verifyX509Svid(chain, bundle); // fails loudly before measuring if the setup is wrong

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const message = Buffer.alloc(400, 7);
const signature = createSign('sha256').update(message).sign(privateKey);
const key = createPublicKey({ key: publicKey.export({ type: 'spki', format: 'der' }), format: 'der', type: 'spki' });

const rawVerify = (): void => {
  if (!verify('sha256', message, key, signature)) throw new Error('raw verify failed');
};
const ourVerify = (): void => {
  verifyX509Svid(chain, bundle);
};
for (let i = 0; i < 1000; i++) {
  rawVerify();
  ourVerify();
}
let raw = 0;
let ours = 0;
for (let round = 0; round < ROUNDS; round++) {
  raw = Math.max(raw, rate(rawVerify));
  ours = Math.max(ours, rate(ourVerify));
}

console.log(
  JSON.stringify({
    bench: 'x509-verify',
    verify_per_sec: Math.round(ours),
    raw_ecdsa_p256_verify_per_sec: Math.round(raw),
    ratio: Number((ours / raw).toFixed(3)),
  }),
);
