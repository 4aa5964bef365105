/**
 * JWT-SVID validation throughput with cached keys, next to the limits measured
 * in the same run: one raw ES256 `crypto.verify` and jose's `jwtVerify`.
 * Prints one JSON line. Run: node --import tsx bench/jwt-validate.bench.ts
 */
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { jwtVerify } from 'jose';
import { Bundle } from '../src/spiffe/bundle.js';
import { JwtSvid } from '../src/spiffe/jwt/index.js';

const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 2000);
const ROUNDS = 3;

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const bundle = new Bundle('example.org', { jwtAuthorities: [{ keyId: 'k1', publicKey }] });
const audience = 'spiffe://example.org/reports';
const now = Math.floor(Date.now() / 1000);

// A SPIRE-shaped token: alg, kid, typ; sub, aud (array), exp, iat.
const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const signingInput = `${enc({ alg: 'ES256', kid: 'k1', typ: 'JWT' })}.${enc({ sub: 'spiffe://example.org/workload', aud: [audience], exp: now + 3600, iat: now })}`;
const signature = sign('sha256', Buffer.from(signingInput), { key: privateKey, dsaEncoding: 'ieee-p1363' });
const token = `${signingInput}.${signature.toString('base64url')}`;

/**
 * Operations per second of `a` and `b`, run in alternating slices of about
 * 20 ms for about DURATION_MS each, so that load from other processes hits
 * both alike and their ratio stays meaningful on a busy machine.
 */
function measurePair(a: () => unknown, b: () => unknown): [number, number] {
  for (let i = 0; i < 500; i++) {
    a();
    b();
  }
  const totals = [0, 0];
  const counts = [0, 0];
  const slices = Math.max(1, Math.round(DURATION_MS / 20));
  for (let slice = 0; slice < slices; slice++) {
    for (const [which, op] of [a, b].entries()) {
      const start = process.hrtime.bigint();
      const deadline = start + 20_000_000n;
      let t = start;
      let n = 0;
      while (t < deadline) {
        for (let i = 0; i < 20; i++) op();
        n += 20;
        t = process.hrtime.bigint();
      }
      totals[which]! += Number(t - start);
      counts[which]! += n;
    }
  }
  return [counts[0]! / (totals[0]! / 1e9), counts[1]! / (totals[1]! / 1e9)];
}

async function measureAsync(op: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 500; i++) await op();
  let count = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(DURATION_MS) * 1_000_000n;
  let t = start;
  while (t < deadline) {
    for (let i = 0; i < 20; i++) await op();
    count += 20;
    t = process.hrtime.bigint();
  }
  return count / (Number(t - start) / 1e9);
}

const data = Buffer.from(signingInput);
const raw = () => {
  if (!verify('sha256', data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature)) throw new Error('raw verify failed');
};
const ours = () => JwtSvid.parseAndValidate(token, bundle, audience);
const jose = () => jwtVerify(token, publicKey, { audience, algorithms: ['ES256'] });

// Sanity: every path accepts the token before it is timed.
raw();
ours();
await jose();

// The best round of each counts: noise only ever slows a round down.
const best = { raw: 0, ours: 0, jose: 0 };
for (let round = 0; round < ROUNDS; round++) {
  const [r, o] = measurePair(raw, ours);
  best.raw = Math.max(best.raw, r);
  best.ours = Math.max(best.ours, o);
  best.jose = Math.max(best.jose, await measureAsync(jose));
}

console.log(
  JSON.stringify({
    bench: 'jwt-validate',
    validate_per_sec: Math.round(best.ours),
    raw_es256_verify_per_sec: Math.round(best.raw),
    jose_jwtVerify_per_sec: Math.round(best.jose),
    ratio_to_raw: Number((best.ours / best.raw).toFixed(3)),
  }),
);
