/**
 * Token and key fixtures for the JWT-SVID tests. Tokens are built by hand with
 * node:crypto so hostile headers and payloads can be anything at all.
 */
import assert from 'node:assert/strict';
import { constants, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { Bundle } from '../../../src/spiffe/bundle.js';
import { BundleSet } from '../../../src/spiffe/bundle-set.js';
import { JwtSvidError } from '../../../src/spiffe/jwt/index.js';

export const TD = 'example.org';
export const OTHER_TD = 'other.example';
export const SUB = 'spiffe://example.org/workload';
export const AUD = 'spiffe://example.org/reports';
/** A fixed validation time (seconds), so tests never depend on the clock. */
export const NOW = 1_800_000_000;
export const NOW_DATE = new Date(NOW * 1000);

export interface KeyPair {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

function ec(namedCurve: string): KeyPair {
  return generateKeyPairSync('ec', { namedCurve });
}

// Generated once per test file (each file is its own process).
export const keys = {
  p256: ec('P-256'),
  p384: ec('P-384'),
  p521: ec('P-521'),
  rsa: generateKeyPairSync('rsa', { modulusLength: 2048 }),
  p256b: ec('P-256'),
} as const;

export type Alg = 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512';

/** The key (and kid in `bundle`) each algorithm signs with. */
export const KEY_FOR: Record<Alg, { kid: string; pair: KeyPair }> = {
  RS256: { kid: 'rsa', pair: keys.rsa },
  RS384: { kid: 'rsa', pair: keys.rsa },
  RS512: { kid: 'rsa', pair: keys.rsa },
  PS256: { kid: 'rsa', pair: keys.rsa },
  PS384: { kid: 'rsa', pair: keys.rsa },
  PS512: { kid: 'rsa', pair: keys.rsa },
  ES256: { kid: 'p256', pair: keys.p256 },
  ES384: { kid: 'p384', pair: keys.p384 },
  ES512: { kid: 'p521', pair: keys.p521 },
};

export const bundle = new Bundle(TD, {
  jwtAuthorities: [
    { keyId: 'p256', publicKey: keys.p256.publicKey },
    { keyId: 'p384', publicKey: keys.p384.publicKey },
    { keyId: 'p521', publicKey: keys.p521.publicKey },
    { keyId: 'rsa', publicKey: keys.rsa.publicKey },
  ],
});

/** Another trust domain, whose only key is `p256b` under kid `other`. */
export const otherBundle = new Bundle(OTHER_TD, { jwtAuthorities: [{ keyId: 'other', publicKey: keys.p256b.publicKey }] });
export const bundles = new BundleSet([bundle, otherBundle]);

export function b64url(data: string | Uint8Array): string {
  return Buffer.from(data).toString('base64url');
}

/** A JSON value or raw text (for duplicate members, bad JSON, bad UTF-8 bytes). */
export type Part = Record<string, unknown> | string | Uint8Array;

function encodePart(part: Part): string {
  if (typeof part === 'string' || part instanceof Uint8Array) return b64url(part);
  return b64url(JSON.stringify(part));
}

/** Signs `header.payload` with `alg`'s parameters (whatever the header says). */
export function signWith(alg: Alg, privateKey: KeyObject, header: Part, payload: Part): string {
  const input = `${encodePart(header)}.${encodePart(payload)}`;
  const hash = `sha${alg.slice(2)}`;
  let signature: Buffer;
  if (alg.startsWith('ES')) signature = sign(hash, Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' });
  else if (alg.startsWith('PS')) signature = sign(hash, Buffer.from(input), { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: Number(alg.slice(2)) / 8 });
  else signature = sign(hash, Buffer.from(input), privateKey);
  return `${input}.${signature.toString('base64url')}`;
}

export function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { sub: SUB, aud: [AUD], exp: NOW + 300, iat: NOW - 10, ...overrides };
}

/** A valid token for `alg` with its bundle kid, with header and claim overrides. */
export function token(alg: Alg = 'ES256', options: { header?: Record<string, unknown>; claims?: Record<string, unknown> } = {}): string {
  const { kid, pair } = KEY_FOR[alg];
  return signWith(alg, pair.privateKey, { alg, kid, typ: 'JWT', ...options.header }, claims(options.claims));
}

/**
 * Asserts that `run` throws a JwtSvidError with `code`, and that the message
 * holds neither the token nor any of its segments (a bearer secret).
 */
export function assertRejects(run: () => unknown, code: string, token?: string): void {
  let thrown: unknown;
  try {
    run();
  } catch (err) {
    thrown = err;
  }
  assert.ok(thrown instanceof JwtSvidError, `expected JwtSvidError ${code}, got ${thrown === undefined ? 'no error' : String(thrown)}`);
  assert.equal(thrown.code, code, thrown.message);
  assert.ok(thrown.message.startsWith('jwtsvid: '), thrown.message);
  if (token !== undefined) {
    for (const piece of [token, ...token.split('.')]) {
      if (piece.length >= 8) assert.ok(!thrown.message.includes(piece), `error message leaks the token: ${thrown.message}`);
    }
  }
}
