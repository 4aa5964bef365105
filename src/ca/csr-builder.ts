/**
 * PKCS#10 certificate signing requests, built the way SPIRE agents build
 * them: an empty subject (the server decides the identity), the public key,
 * no attributes, signed by the private key to prove possession.
 */
import { sign, type KeyObject } from 'node:crypto';
import { bitString, explicit, sequence, TAG, tlv } from './der-writer.js';
import { classifyKey, signingAlgorithm } from './key-type.js';
import { spkiOf } from './spki.js';

const VERSION_1 = Buffer.from([TAG.INTEGER, 1, 0]);

/** DER CSR for the key pair (EC P-256/P-384 or RSA ≥ 2048). */
export function createCsr(privateKey: KeyObject, publicKey: KeyObject): Buffer {
  const { keyType } = classifyKey(publicKey, 'CSR key');
  const algorithm = signingAlgorithm(keyType);
  const info = sequence(VERSION_1, sequence(), spkiOf(publicKey), explicit(0));
  const signature = sign(algorithm.hash, info, privateKey);
  return sequence(info, algorithm.algorithmIdentifier, bitString(signature));
}

// `tlv` is re-exported for tests that craft broken CSRs from the same pieces.
export { tlv };
