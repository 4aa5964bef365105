/**
 * One `crypto.verify` per candidate key, with the parameters the algorithm
 * table fixes. Any failure inside node:crypto counts as a bad signature.
 */
import { verify, type KeyObject } from 'node:crypto';
import type { JwsAlgorithm } from './algorithms.js';

export function verifySignature(alg: JwsAlgorithm, key: KeyObject, signingInput: Buffer, signature: Buffer): boolean {
  // ECDSA in JWS is the fixed-size r||s form; anything else is refused before crypto.
  if (alg.signatureLength !== undefined && signature.length !== alg.signatureLength) return false;
  try {
    if (alg.keyType === 'ec') return verify(alg.hash, signingInput, { key, dsaEncoding: 'ieee-p1363' }, signature);
    return verify(alg.hash, signingInput, { key, padding: alg.padding, saltLength: alg.saltLength }, signature);
  } catch {
    return false;
  }
}
