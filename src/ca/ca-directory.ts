/**
 * A CA kept in a directory, so the CLI and the server find it again.
 *
 * Layout (the directory is 0700; every file is written 0600 through a temp
 * file and a rename, never chmod-ed after writing):
 *
 *   ca.json             metadata and rotation state (no secrets):
 *                       { version: 1, trustDomain, keyType, jwtKeyType, ttlSeconds, sequence,
 *                         upstream: { certFile, keyFile } | null,          (absolute paths, read on each load)
 *                         x509: [{ id, status, certFile, keyFile }],       (id = CA serial, hex)
 *                         jwt:  [{ id, status, keyFile, notBefore, notAfter }] }  (id = kid)
 *   x509-<id>.key       a CA private key, PKCS#8 PEM
 *   x509-<id>.pem       its CA certificate, PEM
 *   jwt-<kid>.key       a JWT signing key, PKCS#8 PEM
 *
 * With a `kek` (key-encryption key), the `.key` files hold the keys encrypted
 * (AES-256-GCM, key-encryption.ts) instead of PEM; loading needs the same
 * KEK. A plain PEM key file still loads when a KEK is given (a CA created
 * before the KEK was configured); keys written later are encrypted.
 *
 * A key file readable by group or others is refused on load. Every change of
 * state (rotation in `advance`) writes the new key files first, then ca.json,
 * then removes the files of dropped authorities, so a crash leaves at worst
 * an unreferenced file, never a reference to a missing one.
 */
import { closeSync, constants, fstatSync, mkdirSync, openSync, readdirSync, readFileSync, rmdirSync, statSync, unlinkSync } from 'node:fs';
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { basename, join, resolve } from 'node:path';
import { writeFileAtomic } from '../atomic-file.js';
import { CaError } from './ca-error.js';
import { CertificateAuthority, type CaState } from './certificate-authority.js';
import { kPrivateKey } from './internal.js';
import { decryptPrivateKeyPem, encryptPrivateKeyPem, isEncryptedKeyFile } from './key-encryption.js';
import { JwtAuthority } from './jwt-authority.js';
import { isKeyType, type KeyType } from './key-type.js';
import type { AuthorityStatus } from './rotation.js';
import { UpstreamAuthority } from './upstream.js';
import { X509Authority } from './x509-authority.js';
import { decodePemBlocks, encodePem } from '../spiffe/pem.js';
import { TrustDomain } from '../spiffe/trust-domain.js';

const STATE_FILE = 'ca.json';
const STATE_VERSION = 1;
const MAX_STATE_BYTES = 1024 * 1024;
const MAX_FILE_BYTES = 1024 * 1024;
const X509_ID = /^[0-9a-f]{2,64}$/;
const JWT_ID = /^[A-Za-z0-9_-]{1,64}$/;
const OUR_FILE = /^(?:x509-[0-9a-f]+\.(?:key|pem)|jwt-[A-Za-z0-9_-]+\.key)$/;
const STATUSES: readonly AuthorityStatus[] = ['PREPARED', 'ACTIVE', 'OLD'];

export interface InitCaDirectoryOptions {
  dir: string;
  trustDomain: TrustDomain | string;
  keyType?: KeyType;
  jwtKeyType?: KeyType;
  /** CA lifetime; default 24 h. */
  ttlSeconds?: number;
  /** PEM: the upstream signing certificate, then its issuers up to the self-signed root. */
  upstreamCertFile?: string;
  /** PEM private key of the upstream signing certificate (mode 0600). */
  upstreamKeyFile?: string;
  now?: Date;
  clock?: () => Date;
  /** Key-encryption key: private keys are written encrypted under it (at least 16 bytes). */
  kek?: Uint8Array;
}

export interface LoadCaDirectoryOptions {
  now?: Date;
  clock?: () => Date;
  /** Key-encryption key the private keys were written under; new keys are encrypted under it. */
  kek?: Uint8Array;
}

interface UpstreamFiles {
  certFile: string;
  keyFile: string;
}

/** Creates a new CA in `dir` (created 0700 when missing). Refuses a directory that already holds one. */
export function initCaDirectory(options: InitCaDirectoryOptions): CertificateAuthority {
  if (typeof options !== 'object' || options === null || typeof options.dir !== 'string' || options.dir.length === 0) {
    throw new CaError('ERR_CA_BAD_OPTION', 'initCaDirectory needs a "dir"');
  }
  const dir = resolve(options.dir);
  if (exists(join(dir, STATE_FILE))) throw new CaError('ERR_CA_ALREADY_INITIALIZED', `${dir} already holds a CA (${STATE_FILE}); nothing was changed`);
  checkDirectoryIfPresent(dir);
  const clock = options.clock ?? (() => new Date());
  const now = options.now ?? clock();
  const kek = checkKek(options.kek);
  let upstreamFiles: UpstreamFiles | undefined;
  let upstream: UpstreamAuthority | undefined;
  if (options.upstreamCertFile !== undefined || options.upstreamKeyFile !== undefined) {
    if (typeof options.upstreamCertFile !== 'string' || typeof options.upstreamKeyFile !== 'string') {
      throw new CaError('ERR_CA_BAD_OPTION', 'an upstream CA needs both upstreamCertFile and upstreamKeyFile');
    }
    upstreamFiles = { certFile: resolve(options.upstreamCertFile), keyFile: resolve(options.upstreamKeyFile) };
    upstream = readUpstream(upstreamFiles, now);
  }
  const ca = CertificateAuthority.create({
    trustDomain: options.trustDomain,
    keyType: options.keyType,
    jwtKeyType: options.jwtKeyType,
    ttlSeconds: options.ttlSeconds,
    upstream,
    clock,
    now,
  } as Parameters<typeof CertificateAuthority.create>[0]);
  // Everything is checked; only now is anything written.
  const created = ensureDirectory(dir);
  try {
    writeState(dir, ca.state(), upstreamFiles, true, kek);
  } catch (err) {
    removeOurFiles(dir, new Set());
    if (created) tryRemoveDir(dir);
    if (err instanceof CaError) throw err;
    throw new CaError('ERR_CA_IO', `could not write the CA to ${dir}: ${(err as NodeJS.ErrnoException).code ?? 'I/O error'}`);
  }
  ca.setStateListener((state) => persist(dir, state, upstreamFiles, kek));
  return ca;
}

/** Loads the CA kept in `dir`, brings its rotation up to `now` and saves any change. */
export function loadCaDirectory(dirInput: string, options: LoadCaDirectoryOptions = {}): CertificateAuthority {
  if (typeof dirInput !== 'string' || dirInput.length === 0) throw new CaError('ERR_CA_BAD_OPTION', 'loadCaDirectory needs a directory');
  const dir = resolve(dirInput);
  const clock = options.clock ?? (() => new Date());
  const now = options.now ?? clock();
  const kek = checkKek(options.kek);
  const statePath = join(dir, STATE_FILE);
  if (!exists(statePath)) throw new CaError('ERR_CA_NOT_INITIALIZED', `${dir} holds no CA (no ${STATE_FILE}); run "meshward ca init" first`);
  const doc = readStateDocument(statePath);
  const upstreamFiles = doc.upstream;
  const upstream = upstreamFiles === undefined ? undefined : readUpstream(upstreamFiles, now);
  const state: CaState = {
    trustDomain: doc.trustDomain,
    keyType: doc.keyType,
    jwtKeyType: doc.jwtKeyType,
    ttlSeconds: doc.ttlSeconds,
    sequence: doc.sequence,
    upstream,
    x509: doc.x509.map((entry) => {
      const key = readPrivateKeyFile(join(dir, entry.keyFile), kek);
      const cert = readCertificateFile(join(dir, entry.certFile));
      try {
        return X509Authority.fromStored(entry.status, cert, key, upstream);
      } catch {
        throw new CaError('ERR_CA_MALFORMED_STATE', `${entry.certFile} and ${entry.keyFile} do not form a valid CA authority`);
      }
    }),
    jwt: doc.jwt.map((entry) => {
      const key = readPrivateKeyFile(join(dir, entry.keyFile), kek);
      return JwtAuthority.fromStored(entry.id, entry.status, key, createPublicKey(key), entry.notBefore, entry.notAfter);
    }),
  };
  const ca = CertificateAuthority.fromState(state, clock);
  ca.setStateListener((s) => persist(dir, s, upstreamFiles, kek));
  ca.advance(now);
  return ca;
}

function checkKek(kek: unknown): Uint8Array | undefined {
  if (kek === undefined) return undefined;
  if (!(kek instanceof Uint8Array) || kek.byteLength < 16) throw new CaError('ERR_CA_BAD_OPTION', 'kek must be at least 16 bytes');
  return kek;
}

function persist(dir: string, state: Readonly<CaState>, upstream: UpstreamFiles | undefined, kek: Uint8Array | undefined): void {
  try {
    writeState(dir, state, upstream, false, kek);
    const keep = new Set<string>();
    for (const a of state.x509) keep.add(`x509-${a.id}.key`).add(`x509-${a.id}.pem`);
    for (const a of state.jwt) keep.add(`jwt-${a.id}.key`);
    removeOurFiles(dir, keep);
  } catch (err) {
    if (err instanceof CaError) throw err;
    throw new CaError('ERR_CA_IO', `could not save the CA state in ${dir}: ${(err as NodeJS.ErrnoException).code ?? 'I/O error'}`);
  }
}

/** Writes missing key and certificate files, then ca.json (`exclusive`: fail if ca.json exists). */
function writeState(dir: string, state: Readonly<CaState>, upstream: UpstreamFiles | undefined, exclusive: boolean, kek: Uint8Array | undefined): void {
  const keyFile = (name: string, key: KeyObject): string => (kek === undefined ? pkcs8Pem(key) : encryptPrivateKeyPem(pkcs8Pem(key), kek, name));
  for (const a of state.x509) {
    writeIfMissing(join(dir, `x509-${a.id}.key`), () => keyFile(`x509-${a.id}.key`, a[kPrivateKey]()));
    writeIfMissing(join(dir, `x509-${a.id}.pem`), () => encodePem('CERTIFICATE', a.certificate));
  }
  for (const a of state.jwt) writeIfMissing(join(dir, `jwt-${a.id}.key`), () => keyFile(`jwt-${a.id}.key`, a[kPrivateKey]()));
  const doc = {
    version: STATE_VERSION,
    trustDomain: state.trustDomain.name,
    keyType: state.keyType,
    jwtKeyType: state.jwtKeyType,
    ttlSeconds: state.ttlSeconds,
    sequence: state.sequence,
    upstream: upstream ?? null,
    x509: state.x509.map((a) => ({ id: a.id, status: a.status, certFile: `x509-${a.id}.pem`, keyFile: `x509-${a.id}.key` })),
    jwt: state.jwt.map((a) => ({ id: a.id, status: a.status, keyFile: `jwt-${a.id}.key`, notBefore: a.notBefore.toISOString(), notAfter: a.notAfter.toISOString() })),
  };
  const path = join(dir, STATE_FILE);
  const data = JSON.stringify(doc, null, 2) + '\n';
  if (exclusive) {
    try {
      writeFileAtomic(path, data, { replace: false });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new CaError('ERR_CA_ALREADY_INITIALIZED', `${dir} already holds a CA (${STATE_FILE}); nothing was changed`);
      throw err;
    }
  } else {
    writeFileAtomic(path, data, { replace: true });
  }
}

function pkcs8Pem(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }) as string;
}

function writeIfMissing(path: string, data: () => string): void {
  if (!exists(path)) writeFileAtomic(path, data(), { replace: false });
}

function ensureDirectory(dir: string): boolean {
  if (exists(dir)) return false;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new CaError('ERR_CA_IO', `could not create ${dir}: ${(err as NodeJS.ErrnoException).code ?? 'I/O error'}`);
  }
  return true;
}

function checkDirectoryIfPresent(dir: string): void {
  let st;
  try {
    st = statSync(dir);
  } catch {
    return;
  }
  if (!st.isDirectory()) throw new CaError('ERR_CA_BAD_OPTION', `${dir} exists and is not a directory`);
  if ((st.mode & 0o077) !== 0) {
    throw new CaError('ERR_CA_BAD_OPTION', `${dir} is accessible by group or others (mode ${(st.mode & 0o777).toString(8)}); use a new path or a directory with mode 0700`);
  }
}

function removeOurFiles(dir: string, keep: ReadonlySet<string>): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) if (OUR_FILE.test(name) && !keep.has(name)) tryUnlink(join(dir, name));
}

function tryUnlink(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    /* already gone */
  }
}

function tryRemoveDir(dir: string): void {
  try {
    if (readdirSync(dir).length === 0) rmdirSync(dir);
  } catch {
    /* leave it */
  }
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Reads a private key file, refusing one that group or others may read. Never echoes its content. */
function readPrivateKeyFile(path: string, kek?: Uint8Array): KeyObject {
  let text = readSecretFile(path);
  if (isEncryptedKeyFile(text)) text = decryptPrivateKeyPem(text, kek, basename(path), path);
  try {
    return createPrivateKey({ key: text, format: 'pem' });
  } catch {
    throw new CaError('ERR_CA_MALFORMED_KEY_FILE', `${path} does not hold a readable PEM private key`);
  }
}

function readSecretFile(path: string): string {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    throw new CaError('ERR_CA_IO', `cannot open key file ${path}: ${(err as NodeJS.ErrnoException).code ?? 'I/O error'}`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new CaError('ERR_CA_MALFORMED_KEY_FILE', `${path} is not a regular file`);
    if ((st.mode & 0o077) !== 0) {
      throw new CaError('ERR_CA_KEY_FILE_PERMISSIONS', `key file ${path} is readable or writable by group or others (mode ${(st.mode & 0o777).toString(8)}); run "chmod 600 ${path}"`);
    }
    if (st.size > MAX_FILE_BYTES) throw new CaError('ERR_CA_MALFORMED_KEY_FILE', `${path} is too large to be a key file`);
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

function readTextFile(path: string, what: string): string {
  try {
    const st = statSync(path);
    if (!st.isFile() || st.size > MAX_FILE_BYTES) throw new CaError('ERR_CA_IO', `${what} ${path} is not a regular file of reasonable size`);
    return readFileSync(path, 'utf8');
  } catch (err) {
    if (err instanceof CaError) throw err;
    throw new CaError('ERR_CA_IO', `cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? 'I/O error'}`);
  }
}

function readCertificateFile(path: string): Buffer {
  const blocks = (() => {
    try {
      return decodePemBlocks(readTextFile(path, 'certificate file'));
    } catch (err) {
      if (err instanceof CaError) throw err;
      throw new CaError('ERR_CA_MALFORMED_STATE', `${path} is not valid PEM`);
    }
  })();
  const certs = blocks.filter((b) => b.label === 'CERTIFICATE');
  if (certs.length !== 1) throw new CaError('ERR_CA_MALFORMED_STATE', `${path} must hold exactly one certificate`);
  return certs[0]!.der;
}

function readUpstream(files: UpstreamFiles, now: Date): UpstreamAuthority {
  const certPem = readTextFile(files.certFile, 'upstream certificate file');
  const keyPem = readSecretFile(files.keyFile);
  return UpstreamAuthority.fromPem(certPem, keyPem, now);
}

interface StateDocument {
  trustDomain: TrustDomain;
  keyType: KeyType;
  jwtKeyType: KeyType;
  ttlSeconds: number;
  sequence: number;
  upstream: UpstreamFiles | undefined;
  x509: Array<{ id: string; status: AuthorityStatus; certFile: string; keyFile: string }>;
  jwt: Array<{ id: string; status: AuthorityStatus; keyFile: string; notBefore: Date; notAfter: Date }>;
}

function readStateDocument(path: string): StateDocument {
  const text = readTextFile(path, 'CA state file');
  if (text.length > MAX_STATE_BYTES) throw new CaError('ERR_CA_MALFORMED_STATE', `${path} is too large`);
  const bad = (what: string): never => {
    throw new CaError('ERR_CA_MALFORMED_STATE', `${path}: ${what}`);
  };
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return bad('not valid JSON');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) bad('not a JSON object');
  if (doc.version !== STATE_VERSION) bad(`unsupported version ${JSON.stringify(doc.version)} (expected ${STATE_VERSION})`);
  let trustDomain: TrustDomain;
  try {
    trustDomain = TrustDomain.parse(doc.trustDomain as string);
  } catch {
    return bad('invalid "trustDomain"');
  }
  if (!isKeyType(doc.keyType) || !isKeyType(doc.jwtKeyType)) bad('invalid "keyType" or "jwtKeyType"');
  const count = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
  if (!count(doc.ttlSeconds) || doc.ttlSeconds === 0 || !count(doc.sequence)) bad('invalid "ttlSeconds" or "sequence"');
  let upstream: UpstreamFiles | undefined;
  if (doc.upstream !== null && doc.upstream !== undefined) {
    const u = doc.upstream as Record<string, unknown>;
    if (typeof u.certFile !== 'string' || typeof u.keyFile !== 'string') bad('invalid "upstream"');
    upstream = { certFile: u.certFile as string, keyFile: u.keyFile as string };
  }
  const status = (v: unknown): AuthorityStatus => (STATUSES.includes(v as AuthorityStatus) ? (v as AuthorityStatus) : bad(`invalid status ${JSON.stringify(v)}`));
  const date = (v: unknown): Date => {
    const d = typeof v === 'string' ? new Date(v) : new Date(NaN);
    return Number.isNaN(d.getTime()) ? bad('invalid date') : d;
  };
  if (!Array.isArray(doc.x509) || !Array.isArray(doc.jwt)) bad('"x509" and "jwt" must be arrays');
  const x509 = (doc.x509 as Array<Record<string, unknown>>).map((e) => {
    if (typeof e?.id !== 'string' || !X509_ID.test(e.id)) bad('invalid X.509 authority id');
    const id = e.id as string;
    // File names are derived from the id, never taken from the document: no path tricks.
    return { id, status: status(e.status), certFile: `x509-${id}.pem`, keyFile: `x509-${id}.key` };
  });
  const jwt = (doc.jwt as Array<Record<string, unknown>>).map((e) => {
    if (typeof e?.id !== 'string' || !JWT_ID.test(e.id)) bad('invalid JWT authority id');
    const id = e.id as string;
    return { id, status: status(e.status), keyFile: `jwt-${id}.key`, notBefore: date(e.notBefore), notAfter: date(e.notAfter) };
  });
  return { trustDomain, keyType: doc.keyType as KeyType, jwtKeyType: doc.jwtKeyType as KeyType, ttlSeconds: doc.ttlSeconds as number, sequence: doc.sequence as number, upstream, x509, jwt };
}
