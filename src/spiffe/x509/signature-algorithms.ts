/**
 * The signature algorithms an X.509-SVID chain may use, as a table (jose's
 * style): ECDSA and RSA PKCS#1 v1.5 with SHA-256/384/512, RSA keys of at least
 * 2048 bits. SHA-1, MD5, Ed25519, DSA and RSA-PSS are absent, so refused.
 */
import { verify as cryptoVerify } from 'node:crypto';
import type { ParsedCertificate } from './certificate.js';
import { OID } from './oids.js';
import type { PublicKeyKind } from './public-key-info.js';
import { X509SvidError } from './x509-svid-error.js';

export const MIN_RSA_BITS = 2048;

interface SignatureAlgorithm {
  readonly hash: 'sha256' | 'sha384' | 'sha512';
  readonly keyType: 'ec' | 'rsa';
}

const ALGORITHMS = new Map<string, SignatureAlgorithm>([
  [OID.ecdsaWithSha256, { hash: 'sha256', keyType: 'ec' }],
  [OID.ecdsaWithSha384, { hash: 'sha384', keyType: 'ec' }],
  [OID.ecdsaWithSha512, { hash: 'sha512', keyType: 'ec' }],
  [OID.sha256WithRsa, { hash: 'sha256', keyType: 'rsa' }],
  [OID.sha384WithRsa, { hash: 'sha384', keyType: 'rsa' }],
  [OID.sha512WithRsa, { hash: 'sha512', keyType: 'rsa' }],
]);

/** Throws unless the key is an allowed EC curve or an RSA key of at least 2048 bits. */
export function checkKeyAllowed(kind: PublicKeyKind): void {
  if (kind.type === 'unsupported') {
    throw new X509SvidError('ERR_X509_SVID_UNSUPPORTED_KEY', `unsupported public key algorithm ${kind.algorithm}`);
  }
  if (kind.type === 'rsa' && kind.bits < MIN_RSA_BITS) {
    throw new X509SvidError('ERR_X509_SVID_UNSUPPORTED_KEY', `RSA key is ${kind.bits} bits; at least ${MIN_RSA_BITS} are required`);
  }
}

/** Checks that `issuer` signed `cert` with an allowed algorithm; one crypto.verify. */
export function verifySignedBy(cert: ParsedCertificate, issuer: ParsedCertificate): void {
  const alg = ALGORITHMS.get(cert.signatureAlgorithm);
  if (alg === undefined) {
    throw new X509SvidError('ERR_X509_SVID_UNSUPPORTED_ALGORITHM', `signature algorithm ${cert.signatureAlgorithm} is not allowed`);
  }
  checkKeyAllowed(issuer.publicKeyKind);
  if (issuer.publicKeyKind.type !== alg.keyType) {
    throw new X509SvidError('ERR_X509_SVID_UNSUPPORTED_ALGORITHM', `signature algorithm ${cert.signatureAlgorithm} does not fit the issuer's ${issuer.publicKeyKind.type} key`);
  }
  let ok: boolean;
  try {
    ok = cryptoVerify(alg.hash, cert.tbs, issuer.publicKey, cert.signature);
  } catch {
    ok = false; // a garbled signature encoding is just a bad signature
  }
  if (!ok) throw new X509SvidError('ERR_X509_SVID_BAD_SIGNATURE', 'certificate signature does not verify with the issuer key');
}
