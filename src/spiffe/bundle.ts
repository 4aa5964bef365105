/**
 * A SPIFFE trust bundle: the X.509 and JWT authorities of one trust domain
 * (SPIFFE_Trust_Domain_and_Bundle.md). Immutable; keys are imported once, so
 * verifiers reuse the KeyObjects. The trust domain is never inside the
 * document: a bundle is always a <trust domain, authorities> pair.
 */
import { X509Certificate, type KeyObject } from 'node:crypto';
import { BundleError } from './bundle-error.js';
import { importPublicJwk, publicJwkOf, sameJwkParams } from './jwk.js';
import { decodePemBlocks, encodePem } from './pem.js';
import type { JwtBundleSource, X509BundleSource } from './sources.js';
import { DuplicateMemberError, parseStrictJson } from './strict-json.js';
import { TrustDomain } from './trust-domain.js';

/** Bundle documents are small; anything larger is refused before parsing. */
export const MAX_BUNDLE_BYTES = 1024 * 1024;

export interface JwtAuthority {
  readonly keyId: string;
  readonly publicKey: KeyObject;
}

export interface BundleInit {
  x509Authorities?: Iterable<Uint8Array>;
  jwtAuthorities?: Iterable<{ keyId: string; publicKey: KeyObject }>;
  sequence?: number;
  refreshHint?: number;
}

type KeyMode = 'spiffe' | 'jwks';

export class Bundle implements X509BundleSource, JwtBundleSource {
  readonly trustDomain: TrustDomain;
  /** `spiffe_sequence`, when the document had one. */
  readonly sequence: number | undefined;
  /** `spiffe_refresh_hint` in seconds, when the document had one. */
  readonly refreshHint: number | undefined;
  readonly #x509: readonly Buffer[];
  readonly #jwt: ReadonlyMap<string, JwtAuthority>;

  constructor(trustDomain: TrustDomain | string, init: BundleInit = {}) {
    this.trustDomain = typeof trustDomain === 'string' ? TrustDomain.parse(trustDomain) : trustDomain;
    const x509: Buffer[] = [];
    for (const der of init.x509Authorities ?? []) {
      const copy = Buffer.from(der);
      if (x509.some((known) => known.equals(copy))) throw new BundleError('ERR_BUNDLE_DUPLICATE_KEY', 'the same X.509 authority is listed twice');
      x509.push(copy);
    }
    const jwt = new Map<string, JwtAuthority>();
    for (const { keyId, publicKey } of init.jwtAuthorities ?? []) {
      if (typeof keyId !== 'string' || keyId.length === 0) throw new BundleError('ERR_BUNDLE_MALFORMED_KEY', 'a JWT authority needs a non-empty key ID');
      if (jwt.has(keyId)) throw new BundleError('ERR_BUNDLE_DUPLICATE_KEY', `JWT key ID ${JSON.stringify(keyId)} is listed twice`);
      jwt.set(keyId, Object.freeze({ keyId, publicKey }));
    }
    this.#x509 = Object.freeze(x509);
    this.#jwt = jwt;
    this.sequence = checkOptionalCount(init.sequence, 'spiffe_sequence');
    this.refreshHint = checkOptionalCount(init.refreshHint, 'spiffe_refresh_hint');
  }

  /** Parses a SPIFFE bundle document (a JWKS whose keys carry `use`). */
  static parse(document: string | Uint8Array, trustDomain: TrustDomain | string): Bundle {
    return parseDocument(document, trustDomain, 'spiffe');
  }

  /**
   * Parses a plain JWKS as the Workload API hands JWT bundles over (SPIRE sends
   * keys without `use`): keys without `use` are JWT authorities, keys with
   * `use: x509-svid` or an unknown `kty` are ignored without discarding the rest.
   */
  static fromJwks(document: string | Uint8Array, trustDomain: TrustDomain | string): Bundle {
    return parseDocument(document, trustDomain, 'jwks');
  }

  /** A bundle of X.509 authorities from PEM certificates. */
  static fromX509Pem(pem: string, trustDomain: TrustDomain | string): Bundle {
    let blocks;
    try {
      blocks = decodePemBlocks(pem);
    } catch (err) {
      throw new BundleError('ERR_BUNDLE_MALFORMED_PEM', (err as Error).message);
    }
    const certs = blocks.filter((b) => b.label === 'CERTIFICATE');
    if (certs.length === 0) throw new BundleError('ERR_BUNDLE_MALFORMED_PEM', 'no CERTIFICATE block found');
    for (const [i, cert] of certs.entries()) parseCertificate(cert.der, `PEM certificate ${i}`);
    return new Bundle(trustDomain, { x509Authorities: certs.map((c) => c.der) });
  }

  /** DER of each X.509 authority (CA certificate). */
  x509Authorities(): readonly Buffer[] {
    return this.#x509;
  }

  /** JWT authorities by key ID. */
  jwtAuthorities(): ReadonlyMap<string, JwtAuthority> {
    return this.#jwt;
  }

  getJwtAuthority(keyId: string): JwtAuthority | undefined {
    return this.#jwt.get(keyId);
  }

  getX509BundleForTrustDomain(trustDomain: TrustDomain): Bundle | undefined {
    return trustDomain.name === this.trustDomain.name ? this : undefined;
  }

  getJwtBundleForTrustDomain(trustDomain: TrustDomain): Bundle | undefined {
    return trustDomain.name === this.trustDomain.name ? this : undefined;
  }

  /** A copy with other content; used by rotation and by updates from the Workload API. */
  with(init: BundleInit): Bundle {
    return new Bundle(this.trustDomain, {
      x509Authorities: init.x509Authorities ?? this.#x509,
      jwtAuthorities: init.jwtAuthorities ?? this.#jwt.values(),
      sequence: 'sequence' in init ? init.sequence : this.sequence,
      refreshHint: 'refreshHint' in init ? init.refreshHint : this.refreshHint,
    });
  }

  /** The SPIFFE bundle document. */
  toJSON(): Record<string, unknown> {
    const keys: Array<Record<string, unknown>> = [];
    for (const der of this.#x509) {
      const cert = new X509Certificate(der);
      keys.push({ use: 'x509-svid', ...publicJwkOf(cert.publicKey), x5c: [der.toString('base64')] });
    }
    for (const { keyId, publicKey } of this.#jwt.values()) {
      keys.push({ use: 'jwt-svid', kid: keyId, ...publicJwkOf(publicKey) });
    }
    const doc: Record<string, unknown> = { keys };
    if (this.sequence !== undefined) doc.spiffe_sequence = this.sequence;
    if (this.refreshHint !== undefined) doc.spiffe_refresh_hint = this.refreshHint;
    return doc;
  }

  /** The JWT authorities as a plain JWKS (`use: jwt-svid`), as served to JWT verifiers. */
  toJwks(): { keys: Array<Record<string, unknown>> } {
    return { keys: [...this.#jwt.values()].map(({ keyId, publicKey }) => ({ use: 'jwt-svid', kid: keyId, ...publicJwkOf(publicKey) })) };
  }

  /** The X.509 authorities as concatenated PEM certificates. */
  toPem(): string {
    return this.#x509.map((der) => encodePem('CERTIFICATE', der)).join('');
  }

  /** True when both bundles hold the same authorities and metadata. */
  equals(other: Bundle): boolean {
    if (other === this) return true; // bundles are immutable; the agent's sync hands the same one back when nothing changed
    return JSON.stringify(this.toJSON()) === JSON.stringify(other.toJSON()) && this.trustDomain.equals(other.trustDomain);
  }
}

function checkOptionalCount(value: unknown, member: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new BundleError('ERR_BUNDLE_BAD_MEMBER', `"${member}" must be a non-negative integer`);
  }
  return value;
}

function parseDocument(document: string | Uint8Array, trustDomain: TrustDomain | string, mode: KeyMode): Bundle {
  const size = typeof document === 'string' ? Buffer.byteLength(document) : document.byteLength;
  if (size > MAX_BUNDLE_BYTES) throw new BundleError('ERR_BUNDLE_TOO_LARGE', `bundle is ${size} bytes; at most ${MAX_BUNDLE_BYTES} are accepted`);
  const text = typeof document === 'string' ? document : new TextDecoder('utf-8', { fatal: true }).decode(document);
  let doc: unknown;
  try {
    doc = parseStrictJson(text);
  } catch (err) {
    if (err instanceof DuplicateMemberError) throw new BundleError('ERR_BUNDLE_DUPLICATE_MEMBER', `bundle document has a ${err.message}`);
    throw new BundleError('ERR_BUNDLE_MALFORMED_JSON', 'bundle document is not valid JSON');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new BundleError('ERR_BUNDLE_MALFORMED_JSON', 'bundle document must be a JSON object');
  const { keys, spiffe_sequence: sequence, spiffe_refresh_hint: refreshHint } = doc as Record<string, unknown>;
  if (!Array.isArray(keys)) throw new BundleError('ERR_BUNDLE_MISSING_KEYS', 'bundle document needs a "keys" array');
  const x509Authorities: Buffer[] = [];
  const jwtAuthorities: JwtAuthority[] = [];
  keys.forEach((key, index) => readKey(key, index, mode, x509Authorities, jwtAuthorities));
  return new Bundle(trustDomain, {
    x509Authorities,
    jwtAuthorities,
    sequence: checkOptionalCount(sequence, 'spiffe_sequence'),
    refreshHint: checkOptionalCount(refreshHint, 'spiffe_refresh_hint'),
  });
}

function readKey(key: unknown, index: number, mode: KeyMode, x509: Buffer[], jwt: JwtAuthority[]): void {
  const where = `key ${index}`;
  if (typeof key !== 'object' || key === null || Array.isArray(key)) throw new BundleError('ERR_BUNDLE_MALFORMED_KEY', `${where} is not a JSON object`);
  const jwk = key as Record<string, unknown>;
  if (typeof jwk.kty !== 'string' || jwk.kty.length === 0) throw new BundleError('ERR_BUNDLE_MALFORMED_KEY', `${where} has no "kty"`);
  // Unknown key types and uses are ignored, one key at a time (bundle spec §4.2).
  if (jwk.kty !== 'EC' && jwk.kty !== 'RSA') return;
  const use = jwk.use === undefined && mode === 'jwks' ? 'jwt-svid' : jwk.use;
  if (use === 'x509-svid') {
    if (mode === 'spiffe') x509.push(readX509Authority(jwk, where));
  } else if (use === 'jwt-svid') {
    jwt.push(readJwtAuthority(jwk, where));
  }
}

function readX509Authority(jwk: Record<string, unknown>, where: string): Buffer {
  const x5c = jwk.x5c;
  if (!Array.isArray(x5c) || x5c.length !== 1 || typeof x5c[0] !== 'string') {
    throw new BundleError('ERR_BUNDLE_MALFORMED_KEY', `${where}: an x509-svid key needs exactly one certificate in "x5c"`);
  }
  const b64 = x5c[0];
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 !== 0) throw new BundleError('ERR_BUNDLE_MALFORMED_KEY', `${where}: "x5c" is not base64`);
  const der = Buffer.from(b64, 'base64');
  const cert = parseCertificate(der, where);
  if (!sameJwkParams(publicJwkOf(cert.publicKey), jwk)) {
    throw new BundleError('ERR_BUNDLE_MALFORMED_KEY', `${where}: key parameters do not match the certificate in "x5c"`);
  }
  return der;
}

function readJwtAuthority(jwk: Record<string, unknown>, where: string): JwtAuthority {
  if (typeof jwk.kid !== 'string' || jwk.kid.length === 0) throw new BundleError('ERR_BUNDLE_MALFORMED_KEY', `${where}: a jwt-svid key needs a non-empty "kid"`);
  const key = importPublicJwk(jwk);
  if (typeof key === 'string') throw new BundleError('ERR_BUNDLE_MALFORMED_KEY', `${where}: ${key}`);
  return { keyId: jwk.kid, publicKey: key };
}

function parseCertificate(der: Buffer, where: string): X509Certificate {
  try {
    return new X509Certificate(der);
  } catch {
    throw new BundleError('ERR_BUNDLE_MALFORMED_KEY', `${where}: not a DER X.509 certificate`);
  }
}
