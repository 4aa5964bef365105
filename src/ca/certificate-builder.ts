/**
 * Builds and signs X.509 certificates directly as DER. An `Issuer` holds
 * everything constant for one signing key (its name, AuthorityKeyIdentifier,
 * signature AlgorithmIdentifier and the KeyObject, parsed once); each
 * certificate then costs a few small concatenations and one signature.
 */
import { sign, type KeyObject } from 'node:crypto';
import { bitString, sequence, time } from './der-writer.js';
import type { SigningAlgorithm } from './key-type.js';
import { authorityKeyIdExtension, extensionsField, serialInteger, VERSION_V3 } from './x509-profile.js';

export interface Issuer {
  /** DER Name of the issuing certificate's subject. */
  readonly name: Buffer;
  /** The AuthorityKeyIdentifier extension for certificates it signs. */
  readonly authorityKeyIdExtension: Buffer;
  readonly algorithm: SigningAlgorithm;
  readonly privateKey: KeyObject;
}

export function createIssuer(name: Buffer, keyIdentifier: Buffer, algorithm: SigningAlgorithm, privateKey: KeyObject): Issuer {
  return Object.freeze({ name, authorityKeyIdExtension: authorityKeyIdExtension(keyIdentifier), algorithm, privateKey });
}

export interface CertificateFields {
  /** 16-byte positive serial (see `randomSerial`). */
  readonly serial: Buffer;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** DER Name. */
  readonly subject: Buffer;
  /** DER SubjectPublicKeyInfo. */
  readonly spki: Buffer;
  /** DER Extension values, in order. */
  readonly extensions: Buffer[];
}

/** The DER TBSCertificate. */
export function buildTbs(issuer: Issuer, fields: CertificateFields): Buffer {
  return sequence(
    VERSION_V3,
    serialInteger(fields.serial),
    issuer.algorithm.algorithmIdentifier,
    issuer.name,
    sequence(time(fields.notBefore), time(fields.notAfter)),
    fields.subject,
    fields.spki,
    extensionsField(fields.extensions),
  );
}

/** Signs the TBS and wraps it: the DER Certificate. */
export function signCertificate(issuer: Issuer, tbs: Buffer): Buffer {
  const signature = sign(issuer.algorithm.hash, tbs, issuer.privateKey);
  return sequence(tbs, issuer.algorithm.algorithmIdentifier, bitString(signature));
}

export function buildCertificate(issuer: Issuer, fields: CertificateFields): Buffer {
  return signCertificate(issuer, buildTbs(issuer, fields));
}
