/**
 * PKCS#10 certificate requests (RFC 2986): parsed with the X.509 DER reader, the
 * self-signature checked, the key checked against what we accept. Only the
 * public key is taken from a request; the identity always comes from the
 * caller (as SPIRE does), never from the request's subject or attributes.
 */
import { verify, type KeyObject } from 'node:crypto';
import { CaError } from './ca-error.js';
import { DerReader, TAG, contextTag, decodeOid } from '../spiffe/x509/der-reader.js';
import { X509SvidError } from '../spiffe/x509/x509-svid-error.js';
import { classifyKey, type KeyFamily } from './key-type.js';
import { importSpki } from './spki.js';
import { decodePemBlocks, looksLikePem } from '../spiffe/pem.js';

export const MAX_CSR_BYTES = 64 * 1024;

const SIGNATURE_ALGORITHMS: Readonly<Record<string, { family: KeyFamily; hash: string }>> = {
  '1.2.840.10045.4.3.2': { family: 'ec', hash: 'sha256' },
  '1.2.840.10045.4.3.3': { family: 'ec', hash: 'sha384' },
  '1.2.840.10045.4.3.4': { family: 'ec', hash: 'sha512' },
  '1.2.840.113549.1.1.11': { family: 'rsa', hash: 'sha256' },
  '1.2.840.113549.1.1.12': { family: 'rsa', hash: 'sha384' },
  '1.2.840.113549.1.1.13': { family: 'rsa', hash: 'sha512' },
};

/** The DER of a CSR given as PEM (`CERTIFICATE REQUEST`) or DER. */
function csrDer(csr: string | Uint8Array): Buffer {
  const size = typeof csr === 'string' ? Buffer.byteLength(csr) : csr.byteLength;
  if (size > MAX_CSR_BYTES) throw new CaError('ERR_CA_MALFORMED_CSR', `CSR is ${size} bytes; at most ${MAX_CSR_BYTES} are accepted`);
  if (typeof csr === 'string' || looksLikePem(csr)) {
    const text = typeof csr === 'string' ? csr : Buffer.from(csr).toString('latin1');
    let blocks;
    try {
      blocks = decodePemBlocks(text);
    } catch (err) {
      throw new CaError('ERR_CA_MALFORMED_CSR', (err as Error).message);
    }
    const requests = blocks.filter((b) => b.label === 'CERTIFICATE REQUEST' || b.label === 'NEW CERTIFICATE REQUEST');
    if (requests.length !== 1) throw new CaError('ERR_CA_MALFORMED_CSR', `expected exactly one CERTIFICATE REQUEST PEM block, found ${requests.length}`);
    return requests[0]!.der;
  }
  return Buffer.from(csr);
}

function expect(condition: boolean, what: string): asserts condition {
  if (!condition) throw new CaError('ERR_CA_MALFORMED_CSR', `malformed CSR: ${what}`);
}

/** Parses a CSR, checks its key and its signature, and returns its public key. */
export function publicKeyFromCsr(csr: string | Uint8Array): KeyObject {
  const der = csrDer(csr);
  let info: Buffer, algorithmOid: string, signature: Buffer, spki: Buffer;
  try {
    const top = new DerReader(der);
    const request = top.enter(TAG.SEQUENCE, 'CertificationRequest');
    top.finish('CertificationRequest');
    const criEl = request.expect(TAG.SEQUENCE, 'certificationRequestInfo');
    const sigAlg = request.enter(TAG.SEQUENCE, 'signatureAlgorithm');
    const sigBits = request.expect(TAG.BIT_STRING, 'signature');
    request.finish('CertificationRequest');
    const cri = DerReader.inside(der, criEl);
    const version = cri.expect(TAG.INTEGER, 'version');
    expect(version.end - version.contentStart === 1 && der[version.contentStart] === 0, 'version must be 0 (v1)');
    cri.expect(TAG.SEQUENCE, 'subject');
    const key = cri.expect(TAG.SEQUENCE, 'subjectPKInfo');
    cri.expect(contextTag(0, true), 'attributes');
    cri.finish('certificationRequestInfo');
    algorithmOid = decodeOid(der, sigAlg.expect(TAG.OID, 'signatureAlgorithm OID'));
    while (!sigAlg.done) sigAlg.next(); // parameters: well-formed TLVs, not otherwise checked
    expect(sigBits.end - sigBits.contentStart > 1 && der[sigBits.contentStart] === 0, 'signature is not a whole-byte BIT STRING');
    info = der.subarray(criEl.start, criEl.end);
    spki = der.subarray(key.start, key.end);
    signature = der.subarray(sigBits.contentStart + 1, sigBits.end);
  } catch (err) {
    if (err instanceof CaError) throw err;
    const detail = err instanceof X509SvidError ? err.message.replace(/^x509svid: malformed certificate: /, '') : (err as Error).message;
    throw new CaError('ERR_CA_MALFORMED_CSR', `malformed CSR: ${detail}`, { cause: err });
  }
  let publicKey: KeyObject;
  try {
    publicKey = importSpki(spki);
  } catch {
    throw new CaError('ERR_CA_UNSUPPORTED_KEY', 'the CSR public key is not a key node:crypto can read');
  }
  const { family } = classifyKey(publicKey, 'the CSR public key');
  const algorithm = SIGNATURE_ALGORITHMS[algorithmOid];
  if (algorithm === undefined) throw new CaError('ERR_CA_CSR_UNSUPPORTED_ALGORITHM', `CSR signature algorithm ${algorithmOid} is not accepted; use ECDSA or PKCS#1 v1.5 RSA with SHA-256/384/512`);
  if (algorithm.family !== family) throw new CaError('ERR_CA_CSR_UNSUPPORTED_ALGORITHM', `CSR signature algorithm ${algorithmOid} does not fit its ${family.toUpperCase()} key`);
  let valid = false;
  try {
    valid = verify(algorithm.hash, info, publicKey, signature);
  } catch {
    valid = false;
  }
  if (!valid) throw new CaError('ERR_CA_CSR_BAD_SIGNATURE', 'the CSR signature does not verify with its own public key');
  return publicKey;
}
