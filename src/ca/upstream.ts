/**
 * An upstream CA given as PEM files: our CA becomes an intermediate under it.
 * The certificate file holds the upstream signing certificate first, then its
 * issuers up to and including a self-signed root; the key file holds the
 * signing certificate's private key (PKCS#8, SEC1 or PKCS#1 PEM, unencrypted).
 * Roots go into our bundle; the certificates between our CA and the root are
 * served in every chain we mint.
 */
import { createPrivateKey, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { inspect } from 'node:util';
import { CaError } from './ca-error.js';
import { createIssuer, type Issuer } from './certificate-builder.js';
import { classifyKey, signingAlgorithm } from './key-type.js';
import { keyIdentifier } from './x509-profile.js';
import { decodePemBlocks, encodePem } from '../spiffe/pem.js';
import { ParsedCertificate } from '../spiffe/x509/certificate.js';
import { KEY_USAGE } from '../spiffe/x509/extensions.js';

const PRIVATE_KEY_LABELS = new Set(['PRIVATE KEY', 'EC PRIVATE KEY', 'RSA PRIVATE KEY']);

export class UpstreamAuthority {
  /** The upstream signing certificate. */
  readonly certificate: ParsedCertificate;
  /** Certificates served above our CA in a chain (upstream signing cert and intermediates, never the root). */
  readonly intermediates: readonly Buffer[];
  /** The self-signed root(s): our bundle's X.509 authorities. */
  readonly roots: readonly Buffer[];
  /** The earliest expiry along the upstream chain: our CA never outlives it. */
  readonly notAfter: Date;
  readonly #issuer: Issuer;

  private constructor(certificate: ParsedCertificate, intermediates: Buffer[], roots: Buffer[], notAfter: Date, issuer: Issuer) {
    this.certificate = certificate;
    this.intermediates = Object.freeze(intermediates);
    this.roots = Object.freeze(roots);
    this.notAfter = notAfter;
    this.#issuer = issuer;
  }

  /** The issuer that signs our CA certificates. */
  get issuer(): Issuer {
    return this.#issuer;
  }

  /** Parses and checks the upstream certificate chain and key; throws `CaError`. */
  static fromPem(certPem: string, keyPem: string, now: Date = new Date()): UpstreamAuthority {
    const certs = readCertificates(certPem);
    const privateKey = readPrivateKey(keyPem);
    const [first] = certs;
    const signing = first!;
    const publicSpki = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
    if (!signing.x509.publicKey.export({ type: 'spki', format: 'der' }).equals(publicSpki)) {
      throw new CaError('ERR_CA_UPSTREAM_KEY_MISMATCH', 'the upstream private key does not belong to the first certificate of the upstream certificate file');
    }
    const { keyType } = classifyKey(privateKey, 'the upstream key');
    const keyUsage = signing.info.extensions.keyUsage;
    if (!signing.x509.ca || !signing.info.isCa || (keyUsage !== undefined && (keyUsage & KEY_USAGE.keyCertSign) === 0)) {
      throw new CaError('ERR_CA_UPSTREAM_NOT_CA', 'the upstream certificate is not a CA certificate (needs basicConstraints CA:TRUE and keyUsage keyCertSign)');
    }
    for (let i = 0; i + 1 < certs.length; i++) {
      const child = certs[i]!.x509;
      const parent = certs[i + 1]!.x509;
      if (!child.checkIssued(parent) || !child.verify(parent.publicKey)) {
        throw new CaError('ERR_CA_UPSTREAM_BAD_CHAIN', `upstream certificate ${i} is not issued by certificate ${i + 1}; list the signing certificate first, then each issuer up to the root`);
      }
    }
    const last = certs[certs.length - 1]!.x509;
    if (!last.checkIssued(last) || !last.verify(last.publicKey)) {
      throw new CaError('ERR_CA_UPSTREAM_NO_ROOT', 'the upstream certificate file must end with the self-signed root certificate');
    }
    let notAfter = signing.info.notAfter;
    for (const [i, { info }] of certs.entries()) {
      if (now < info.notBefore || now >= info.notAfter) {
        throw new CaError('ERR_CA_UPSTREAM_EXPIRED', `upstream certificate ${i} is not valid now (valid ${info.notBefore.toISOString()} to ${info.notAfter.toISOString()})`);
      }
      if (info.notAfter < notAfter) notAfter = info.notAfter;
    }
    const ski = signing.info.extensions.subjectKeyIdentifier;
    const issuer = createIssuer(Buffer.from(signing.info.subject), ski === undefined ? keyIdentifier(signing.info.spki) : Buffer.from(ski), signingAlgorithm(keyType), privateKey);
    const derList = certs.map((c) => c.info.der);
    return new UpstreamAuthority(signing.info, derList.slice(0, -1), derList.slice(-1), notAfter, issuer);
  }

  [inspect.custom](): string {
    return `UpstreamAuthority { serial: ${this.certificate.serialNumber.toString('hex')}, notAfter: ${this.notAfter.toISOString()} }`;
  }
}

function readCertificates(pem: string): Array<{ info: ParsedCertificate; x509: X509Certificate }> {
  if (typeof pem !== 'string') throw new CaError('ERR_CA_MALFORMED_UPSTREAM', 'the upstream certificate must be PEM text');
  let blocks;
  try {
    blocks = decodePemBlocks(pem);
  } catch (err) {
    throw new CaError('ERR_CA_MALFORMED_UPSTREAM', `upstream certificate file: ${(err as Error).message}`);
  }
  const certs = blocks.filter((b) => b.label === 'CERTIFICATE');
  if (certs.length === 0) throw new CaError('ERR_CA_MALFORMED_UPSTREAM', 'the upstream certificate file holds no CERTIFICATE block');
  if (certs.length > 8) throw new CaError('ERR_CA_MALFORMED_UPSTREAM', `the upstream certificate file holds ${certs.length} certificates; at most 8 are accepted`);
  return certs.map((block, i) => {
    try {
      return { info: ParsedCertificate.fromDer(block.der), x509: new X509Certificate(block.der) };
    } catch {
      throw new CaError('ERR_CA_MALFORMED_UPSTREAM', `upstream certificate ${i} is not a valid X.509 certificate`);
    }
  });
}

function readPrivateKey(pem: string): KeyObject {
  if (typeof pem !== 'string') throw new CaError('ERR_CA_MALFORMED_UPSTREAM', 'the upstream key must be PEM text');
  let blocks;
  try {
    blocks = decodePemBlocks(pem);
  } catch {
    throw new CaError('ERR_CA_MALFORMED_UPSTREAM', 'the upstream key file is not valid PEM');
  }
  const keys = blocks.filter((b) => PRIVATE_KEY_LABELS.has(b.label));
  if (blocks.some((b) => b.label === 'ENCRYPTED PRIVATE KEY')) throw new CaError('ERR_CA_MALFORMED_UPSTREAM', 'the upstream key is encrypted; give an unencrypted key file (mode 0600)');
  if (keys.length !== 1) throw new CaError('ERR_CA_MALFORMED_UPSTREAM', `the upstream key file must hold exactly one private key, found ${keys.length}`);
  try {
    return createPrivateKey({ key: encodePem(keys[0]!.label, keys[0]!.der), format: 'pem' });
  } catch {
    // Never echo the input or the library's message: both may carry key bytes.
    throw new CaError('ERR_CA_MALFORMED_UPSTREAM', 'the upstream key file does not hold a readable private key');
  }
}
