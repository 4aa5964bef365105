/**
 * Certificate chains as callers hand them over: PEM text, one buffer of
 * concatenated DER (the Workload API's encoding), or a list of DER buffers.
 */
import { decodePemBlocks, looksLikePem } from '../pem.js';
import { MAX_CERTIFICATE_BYTES, splitDerCertificates } from './certificate.js';
import { X509SvidError, malformed } from './x509-svid-error.js';

export type CertificateChainInput = string | Uint8Array | readonly Uint8Array[];

/** Most SVID chains have two or three certificates; more than this is refused before any parsing. */
export const MAX_PRESENTED_CERTIFICATES = 16;

/** Bounds the work done before counting certificates (PEM is about 4/3 of DER, plus headers). */
const MAX_INPUT_BYTES = 2 * MAX_PRESENTED_CERTIFICATES * MAX_CERTIFICATE_BYTES;

export function chainToDer(input: CertificateChainInput): Buffer[] {
  const size = typeof input === 'string' || input instanceof Uint8Array ? input.length : 0;
  if (size > MAX_INPUT_BYTES) throw new X509SvidError('ERR_X509_SVID_CHAIN_TOO_LONG', `certificate chain input is larger than ${MAX_INPUT_BYTES} bytes`);
  let certs: Buffer[];
  if (typeof input === 'string' || (input instanceof Uint8Array && looksLikePem(input))) {
    certs = pemCertificates(typeof input === 'string' ? input : Buffer.from(input).toString('latin1'));
  } else if (input instanceof Uint8Array) {
    certs = splitDerCertificates(input);
  } else if (Array.isArray(input)) {
    certs = input.map((der, i) => {
      if (!(der instanceof Uint8Array)) throw new TypeError(`certificate ${i} must be a Buffer or Uint8Array`);
      return Buffer.isBuffer(der) ? der : Buffer.from(der.buffer, der.byteOffset, der.byteLength);
    });
  } else {
    throw new TypeError('certificates must be PEM text, DER bytes, or a list of DER certificates');
  }
  if (certs.length === 0) throw new X509SvidError('ERR_X509_SVID_EMPTY_CHAIN', 'certificate chain is empty');
  if (certs.length > MAX_PRESENTED_CERTIFICATES) {
    throw new X509SvidError('ERR_X509_SVID_CHAIN_TOO_LONG', `certificate chain has ${certs.length} certificates; at most ${MAX_PRESENTED_CERTIFICATES} are accepted`);
  }
  return certs;
}

function pemCertificates(text: string): Buffer[] {
  let blocks;
  try {
    blocks = decodePemBlocks(text);
  } catch (err) {
    throw malformed((err as Error).message);
  }
  return blocks.filter((b) => b.label === 'CERTIFICATE').map((b) => b.der);
}
