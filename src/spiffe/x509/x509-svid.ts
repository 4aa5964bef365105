/**
 * Our own X.509-SVID: a certificate chain (leaf first) and the leaf's private
 * key. Parsing checks what go-spiffe's `x509svid.Parse` checks: the leaf
 * profile and ID, every signing certificate's CA flag and keyCertSign, and that
 * the key belongs to the leaf. It does not check the chain against a bundle
 * or the clock: that is `verifyX509Svid`'s job, for peers.
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { decodePemBlocks, encodePem, looksLikePem } from '../pem.js';
import type { X509SvidSource } from '../sources.js';
import type { SpiffeId } from '../spiffe-id.js';
import { ParsedCertificate } from './certificate.js';
import { chainToDer, type CertificateChainInput } from './chain-input.js';
import { checkLeaf, checkSigner, idFromLeaf } from './svid-profile.js';
import { X509SvidError } from './x509-svid-error.js';

export interface X509SvidOptions {
  /** The Workload API's `hint` for this SVID, when several are served. */
  readonly hint?: string;
}

export class X509Svid implements X509SvidSource {
  readonly id: SpiffeId;
  /** DER of each certificate, leaf first. */
  readonly certificates: readonly Buffer[];
  readonly expiresAt: Date;
  readonly hint: string | undefined;
  readonly #privateKey: KeyObject;

  private constructor(id: SpiffeId, certificates: Buffer[], expiresAt: Date, privateKey: KeyObject, hint: string | undefined) {
    this.id = id;
    this.certificates = Object.freeze(certificates);
    this.expiresAt = expiresAt;
    this.#privateKey = privateKey;
    this.hint = hint;
  }

  /**
   * `certs`: PEM text or DER (one or concatenated), leaf first.
   * `key`: an unencrypted PKCS#8 private key, PEM or DER.
   */
  static parse(certs: CertificateChainInput, key: string | Uint8Array, options: X509SvidOptions = {}): X509Svid {
    const ders = chainToDer(certs).map((der) => Buffer.from(der)); // own copies: the SVID outlives the input
    const parsed = ders.map((der) => ParsedCertificate.fromDer(der));
    const leaf = parsed[0]!;
    const id = idFromLeaf(leaf);
    checkLeaf(leaf);
    for (const signer of parsed.slice(1)) checkSigner(signer);
    const privateKey = importPkcs8(key);
    if (!createPublicKey(privateKey).equals(leaf.publicKey)) {
      throw new X509SvidError('ERR_X509_SVID_KEY_MISMATCH', 'leaf certificate public key does not match the private key');
    }
    return new X509Svid(id, ders, leaf.notAfter, privateKey, options.hint);
  }

  get privateKey(): KeyObject {
    return this.#privateKey;
  }

  getX509Svid(): X509Svid {
    return this;
  }

  /** The chain as concatenated PEM certificates, leaf first. */
  certificatesPem(): string {
    return this.certificates.map((der) => encodePem('CERTIFICATE', der)).join('');
  }

  /** The private key as PKCS#8 PEM. Handle with care: this is the secret. */
  privateKeyPem(): string {
    return this.#privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  }

  /** The public parts only: the key never reaches JSON. */
  toJSON(): Record<string, unknown> {
    return { id: this.id.toString(), expiresAt: this.expiresAt.toISOString(), hint: this.hint, certificates: this.certificates.length };
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `X509Svid { id: '${this.id}', expiresAt: ${this.expiresAt.toISOString()}, certificates: ${this.certificates.length}, privateKey: [redacted] }`;
  }
}

/** Imports an unencrypted PKCS#8 key; errors say what kind of key was wrong, never its bytes. */
function importPkcs8(key: string | Uint8Array): KeyObject {
  let der: Buffer;
  if (typeof key === 'string' || looksLikePem(key)) {
    let blocks;
    try {
      blocks = decodePemBlocks(typeof key === 'string' ? key : Buffer.from(key).toString('latin1'));
    } catch {
      throw badKey('private key PEM is not valid base64');
    }
    if (blocks.some((b) => b.label === 'ENCRYPTED PRIVATE KEY')) throw badKey('encrypted private keys are not supported');
    const pkcs8 = blocks.filter((b) => b.label === 'PRIVATE KEY');
    if (pkcs8.length !== 1) {
      const other = blocks.find((b) => b.label.endsWith('PRIVATE KEY'));
      throw badKey(other ? `private key must be PKCS#8 ("PRIVATE KEY"), not "${other.label}"` : 'expected exactly one PKCS#8 "PRIVATE KEY" PEM block');
    }
    der = pkcs8[0]!.der;
  } else if (key instanceof Uint8Array) {
    der = Buffer.from(key);
  } else {
    throw new TypeError('private key must be PEM text or DER bytes');
  }
  try {
    return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  } catch {
    throw badKey('private key is not an unencrypted PKCS#8 key');
  }
}

function badKey(message: string): X509SvidError {
  return new X509SvidError('ERR_X509_SVID_BAD_PRIVATE_KEY', message);
}
