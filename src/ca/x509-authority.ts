/**
 * One X.509 signing authority (a CA certificate and its key) and the minting
 * of X.509-SVIDs under it. Everything constant per authority is prepared
 * once; minting a certificate is then a handful of concatenations and one
 * signature.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { inspect } from 'node:util';
import { createIssuer, buildCertificate, type Issuer } from './certificate-builder.js';
import { classifyKey, generateKey, signingAlgorithm, type KeyFamily, type KeyType } from './key-type.js';
import { BACKDATE_MS, ceilSeconds, floorSeconds, kPrivateKey } from './internal.js';
import type { AuthorityStatus } from './rotation.js';
import type { PublicKeyInfo } from './spki.js';
import type { UpstreamAuthority } from './upstream.js';
import {
  caSubject,
  EXT_BASIC_CONSTRAINTS_CA,
  EXT_BASIC_CONSTRAINTS_LEAF,
  EXT_EXT_KEY_USAGE_LEAF,
  EXT_KEY_USAGE_CA,
  EXT_KEY_USAGE_EC_LEAF,
  EXT_KEY_USAGE_RSA_LEAF,
  keyIdentifier,
  LEAF_SUBJECT,
  leafSubject,
  randomSerial,
  subjectAltNameExtension,
  subjectKeyIdExtension,
} from './x509-profile.js';
import { ParsedCertificate } from '../spiffe/x509/certificate.js';

/** RFC 5280 upper bound for a common name. */
const MAX_COMMON_NAME = 64;

export class X509Authority {
  /** The CA certificate's serial number, hex: stable name of this authority. */
  readonly id: string;
  readonly status: AuthorityStatus;
  /** DER of our CA certificate. */
  readonly certificate: Buffer;
  readonly keyType: KeyType;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** True when the certificate is self-signed (it is then its own trust anchor). */
  readonly selfSigned: boolean;
  /** What follows a leaf in a minted chain: `[]` when self-signed, else `[ourCa, ...upstreamIntermediates]`. */
  readonly chain: readonly Buffer[];
  readonly #privateKey: KeyObject;
  readonly #issuer: Issuer;

  private constructor(
    status: AuthorityStatus,
    certificate: Buffer,
    privateKey: KeyObject,
    upstreamIntermediates: readonly Buffer[] | undefined,
    parsed: ParsedCertificate = ParsedCertificate.fromDer(certificate),
  ) {
    this.id = parsed.serialNumber.toString('hex');
    this.status = status;
    this.certificate = certificate;
    this.keyType = classifyKey(privateKey, 'the CA key').keyType;
    this.notBefore = parsed.notBefore;
    this.notAfter = parsed.notAfter;
    this.selfSigned = upstreamIntermediates === undefined;
    this.chain = Object.freeze(upstreamIntermediates === undefined ? [] : [certificate, ...upstreamIntermediates]);
    this.#privateKey = privateKey;
    const ski = parsed.extensions.subjectKeyIdentifier;
    this.#issuer = createIssuer(Buffer.from(parsed.subject), ski === undefined ? keyIdentifier(parsed.spki) : Buffer.from(ski), signingAlgorithm(this.keyType), privateKey);
  }

  /**
   * Rebuilds an authority from its stored certificate and key (the key is
   * checked against the certificate). Throws `X509SvidError` for a malformed
   * certificate, `TypeError` for a key that does not match it.
   */
  static fromStored(status: AuthorityStatus, certificate: Buffer, privateKey: KeyObject, upstream: UpstreamAuthority | undefined): X509Authority {
    const parsed = ParsedCertificate.fromDer(certificate);
    const spki = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
    if (!spki.equals(parsed.spki)) throw new TypeError('the stored CA key does not match its certificate');
    return new X509Authority(status, certificate, privateKey, upstream?.intermediates, parsed);
  }

  /**
   * A new CA: self-signed, or signed by `upstream`. Subject `C=US, O=SPIFFE,
   * serialNumber=…`, URI SAN `spiffe://<td>`, CA:TRUE and keyCertSign+cRLSign
   * (both critical), SKI (+ AKI under an upstream). Never outlives the upstream.
   */
  static create(opts: { trustDomainId: string; keyType: KeyType; ttlSeconds: number; now: Date; status: AuthorityStatus; upstream?: UpstreamAuthority | undefined }): X509Authority {
    const { privateKey, publicKey } = generateKey(opts.keyType);
    const spki = publicKey.export({ type: 'spki', format: 'der' });
    const serial = randomSerial();
    const subject = caSubject(serial.toString('hex'));
    const ski = keyIdentifier(spki);
    const notBefore = ceilSeconds(opts.now.getTime() - BACKDATE_MS);
    let notAfter = floorSeconds(opts.now.getTime() + opts.ttlSeconds * 1000);
    if (opts.upstream !== undefined && opts.upstream.notAfter < notAfter) notAfter = opts.upstream.notAfter;
    const issuer = opts.upstream?.issuer ?? createIssuer(subject, ski, signingAlgorithm(opts.keyType), privateKey);
    const extensions = [EXT_BASIC_CONSTRAINTS_CA, EXT_KEY_USAGE_CA, subjectKeyIdExtension(ski)];
    if (opts.upstream !== undefined) extensions.push(issuer.authorityKeyIdExtension);
    extensions.push(subjectAltNameExtension(opts.trustDomainId, []));
    const certificate = buildCertificate(issuer, { serial, notBefore, notAfter, subject, spki, extensions });
    return new X509Authority(opts.status, certificate, privateKey, opts.upstream?.intermediates);
  }

  withStatus(status: AuthorityStatus): X509Authority {
    return new X509Authority(status, this.certificate, this.#privateKey, this.selfSigned ? undefined : this.chain.slice(1));
  }

  /**
   * Signs a leaf for an already validated request. `notAfter` must already be
   * capped at this authority's expiry.
   */
  mintLeaf(uri: string, key: PublicKeyInfo, family: KeyFamily, dnsNames: readonly string[], notBefore: Date, notAfter: Date): { certificate: Buffer; serial: Buffer } {
    const serial = randomSerial();
    const cn = dnsNames[0];
    const subject = cn !== undefined && cn.length <= MAX_COMMON_NAME ? leafSubject(cn) : LEAF_SUBJECT;
    const extensions = [
      EXT_BASIC_CONSTRAINTS_LEAF,
      family === 'rsa' ? EXT_KEY_USAGE_RSA_LEAF : EXT_KEY_USAGE_EC_LEAF,
      EXT_EXT_KEY_USAGE_LEAF,
      subjectKeyIdExtension(key.keyId),
      this.#issuer.authorityKeyIdExtension,
      subjectAltNameExtension(uri, dnsNames),
    ];
    return { certificate: buildCertificate(this.#issuer, { serial, notBefore, notAfter, subject, spki: key.spki, extensions }), serial };
  }

  [kPrivateKey](): KeyObject {
    return this.#privateKey;
  }

  toJSON(): Record<string, unknown> {
    return { id: this.id, status: this.status, keyType: this.keyType, notBefore: this.notBefore.toISOString(), notAfter: this.notAfter.toISOString(), selfSigned: this.selfSigned };
  }

  [inspect.custom](): string {
    return `X509Authority ${inspect(this.toJSON())}`;
  }
}
