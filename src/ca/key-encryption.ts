/**
 * Private keys at rest under a key-encryption key (KEK): AES-256-GCM with a
 * key derived from the KEK by HKDF-SHA256 (a fresh 16-byte salt per file),
 * the file's name as additional data (a key file cannot be swapped for
 * another). The file is one line of JSON, never PEM:
 *
 *   {"meshward":"encrypted-private-key","v":1,"kdf":"hkdf-sha256","enc":"aes-256-gcm","salt":…,"iv":…,"tag":…,"data":…}
 *
 * Decryption with the wrong KEK fails the GCM tag check: `ERR_CA_KEK_MISMATCH`.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { CaError } from './ca-error.js';

const MARK = 'encrypted-private-key';
const INFO = Buffer.from('meshward ca key encryption v1');

function deriveKey(kek: Uint8Array, salt: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', kek, salt, INFO, 32));
}

/** True when `text` is an encrypted key file (rather than PEM). */
export function isEncryptedKeyFile(text: string): boolean {
  return text.trimStart().startsWith('{') && text.includes(`"${MARK}"`);
}

export function encryptPrivateKeyPem(pem: string, kek: Uint8Array, fileName: string): string {
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', deriveKey(kek, salt), iv);
  cipher.setAAD(Buffer.from(fileName));
  const data = Buffer.concat([cipher.update(pem, 'utf8'), cipher.final()]);
  const doc = { meshward: MARK, v: 1, kdf: 'hkdf-sha256', enc: 'aes-256-gcm', salt: salt.toString('base64'), iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), data: data.toString('base64') };
  return JSON.stringify(doc) + '\n';
}

export function decryptPrivateKeyPem(text: string, kek: Uint8Array | undefined, fileName: string, path: string): string {
  if (kek === undefined) {
    throw new CaError('ERR_CA_KEK_REQUIRED', `${path} is encrypted; give the key-encryption key (MESHWARD_KEK or kek_file)`);
  }
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new CaError('ERR_CA_MALFORMED_KEY_FILE', `${path} is not a readable encrypted key file`);
  }
  if (doc.meshward !== MARK || doc.v !== 1 || doc.kdf !== 'hkdf-sha256' || doc.enc !== 'aes-256-gcm') {
    throw new CaError('ERR_CA_MALFORMED_KEY_FILE', `${path} is an encrypted key file of an unknown version`);
  }
  const b64 = (k: string): Buffer => {
    const v = doc[k];
    if (typeof v !== 'string') throw new CaError('ERR_CA_MALFORMED_KEY_FILE', `${path}: "${k}" is missing`);
    return Buffer.from(v, 'base64');
  };
  const salt = b64('salt');
  const iv = b64('iv');
  const tag = b64('tag');
  const data = b64('data');
  if (iv.length !== 12 || tag.length !== 16) throw new CaError('ERR_CA_MALFORMED_KEY_FILE', `${path}: bad nonce or tag length`);
  try {
    const decipher = createDecipheriv('aes-256-gcm', deriveKey(kek, salt), iv);
    decipher.setAAD(Buffer.from(fileName));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(data), decipher.final()]).toString('utf8');
  } catch {
    throw new CaError('ERR_CA_KEK_MISMATCH', `cannot decrypt ${path}: wrong key-encryption key (or the file was altered)`);
  }
}
