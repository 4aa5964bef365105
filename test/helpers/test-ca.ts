/**
 * A programmatic test CA, modelled on go-spiffe's internal/test/ca.go:
 * `createTestCa(td)`, `ca.childCa(...)`, `ca.issue(id, {...})`. Every knob a
 * hostile-certificate test needs is an option; `null` leaves an extension out.
 * SAN and name-constraint extensions are encoded here byte by byte, so tests
 * can put NULs, uppercase or injection text into them unchanged.
 *
 * Slow on purpose-free paths (WebCrypto through @peculiar/x509): for tests only.
 */
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { Bundle } from '../../src/spiffe/bundle.js';
import { encodePem } from '../../src/spiffe/pem.js';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

type CryptoKey = webcrypto.CryptoKey;
export interface KeyPair {
  readonly publicKey: CryptoKey;
  readonly privateKey: CryptoKey;
}

export type KeyType = 'ec-p256' | 'ec-p384' | 'rsa-2048' | 'rsa-1024';

export const KeyUsage = x509.KeyUsageFlags;
export const Eku = {
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  emailProtection: '1.3.6.1.5.5.7.3.4',
} as const;

export interface NameConstraintsSpec {
  permittedUris?: string[];
  excludedUris?: string[];
  permittedDns?: string[];
  excludedDns?: string[];
  /** A permitted directoryName subtree (raw Name DER), to test fail-closed handling. */
  permittedDirectoryNames?: Uint8Array[];
}

export interface CertOptions {
  subject?: string;
  notBefore?: Date;
  notAfter?: Date;
  /** KeyUsageFlags mask; `null` omits the extension. */
  keyUsage?: number | null;
  keyUsageCritical?: boolean;
  /** basicConstraints cA; `null` omits the extension. */
  isCa?: boolean | null;
  pathLen?: number;
  uris?: string[];
  dnsNames?: string[];
  sanCritical?: boolean;
  /** EKU OIDs; `null` omits the extension. */
  eku?: string[] | null;
  nameConstraints?: NameConstraintsSpec;
  keyType?: KeyType;
  /** Reuse an existing key pair (e.g. to make look-alike CAs). */
  keys?: KeyPair;
  /** Hash for the issuer's signature: 'SHA-256' (default), 'SHA-384', 'SHA-512', 'SHA-1'. */
  hash?: string;
  extraExtensions?: x509.Extension[];
}

export interface IssuedCert {
  readonly certificate: x509.X509Certificate;
  readonly der: Buffer;
  readonly pem: string;
  readonly keys: KeyPair;
  readonly keyType: KeyType;
  /** PKCS#8 DER / PEM of the private key. */
  readonly privateKeyDer: Buffer;
  readonly privateKeyPem: string;
}

export interface TestSvid extends IssuedCert {
  /** Leaf first, then the issuing CAs up to (not including) the root. */
  readonly chain: Buffer[];
  readonly chainPem: string;
}

export class TestCa {
  readonly trustDomain: string;
  readonly cert: IssuedCert;
  readonly parent: TestCa | undefined;
  readonly subject: string;

  private constructor(trustDomain: string, cert: IssuedCert, subject: string, parent: TestCa | undefined) {
    this.trustDomain = trustDomain;
    this.cert = cert;
    this.subject = subject;
    this.parent = parent;
  }

  static async create(trustDomain: string, options: CertOptions = {}): Promise<TestCa> {
    const subject = options.subject ?? `O=SPIFFE, CN=${trustDomain} root ${nextSerial()}`;
    const opts = { ...caDefaults(trustDomain), ...options, subject };
    const keyType = opts.keyType ?? 'ec-p256';
    const keys = opts.keys ?? (await generateKeys(keyType));
    const cert = await buildCert(opts, keys, keyType, { subject, keys, keyType });
    return new TestCa(trustDomain, cert, subject, undefined);
  }

  get der(): Buffer {
    return this.cert.der;
  }

  /** This CA's certificate and its parents' below the root (what a leaf presents after itself). */
  get intermediates(): Buffer[] {
    return this.parent === undefined ? [] : [this.der, ...this.parent.intermediates];
  }

  get root(): TestCa {
    return this.parent === undefined ? this : this.parent.root;
  }

  /** A Bundle holding this chain's root. */
  bundle(trustDomain = this.trustDomain): Bundle {
    return new Bundle(trustDomain, { x509Authorities: [this.root.der] });
  }

  async childCa(options: CertOptions & { trustDomain?: string } = {}): Promise<TestCa> {
    const trustDomain = options.trustDomain ?? this.trustDomain;
    const subject = options.subject ?? `O=SPIFFE, CN=${trustDomain} intermediate ${nextSerial()}`;
    const opts = { ...caDefaults(trustDomain), ...options, subject };
    const keyType = opts.keyType ?? 'ec-p256';
    const keys = opts.keys ?? (await generateKeys(keyType));
    const cert = await buildCert(opts, keys, keyType, this.#issuer());
    return new TestCa(trustDomain, cert, subject, this);
  }

  /** Issues an X.509-SVID for `id` (a URI SAN) with SPIRE's defaults, each overridable. */
  async issue(id: string | undefined, options: CertOptions = {}): Promise<TestSvid> {
    const opts: CertOptions = {
      subject: 'C=US, O=SPIRE',
      notBefore: new Date(Date.now() - 10_000),
      notAfter: new Date(Date.now() + 3600_000),
      keyUsage: KeyUsage.digitalSignature | KeyUsage.keyEncipherment | KeyUsage.keyAgreement,
      isCa: false,
      uris: id === undefined ? [] : [id],
      eku: [Eku.serverAuth, Eku.clientAuth],
      ...options,
    };
    const keyType = opts.keyType ?? 'ec-p256';
    const keys = opts.keys ?? (await generateKeys(keyType));
    const cert = await buildCert(opts, keys, keyType, this.#issuer());
    const chain = [cert.der, ...this.intermediates];
    return { ...cert, chain, chainPem: chain.map((d) => encodePem('CERTIFICATE', d)).join('') };
  }

  #issuer(): Issuer {
    return { subject: this.subject, keys: this.cert.keys, keyType: this.cert.keyType };
  }
}

export function createTestCa(trustDomain: string, options: CertOptions = {}): Promise<TestCa> {
  return TestCa.create(trustDomain, options);
}

interface Issuer {
  subject: string;
  keys: KeyPair;
  keyType: KeyType;
}

function caDefaults(trustDomain: string): CertOptions {
  return {
    notBefore: new Date(Date.now() - 3600_000),
    notAfter: new Date(Date.now() + 24 * 3600_000),
    keyUsage: KeyUsage.keyCertSign | KeyUsage.cRLSign,
    isCa: true,
    uris: [`spiffe://${trustDomain}`],
    eku: null,
  };
}

let serial = 1;
function nextSerial(): number {
  return serial++;
}

export async function generateKeys(keyType: KeyType): Promise<KeyPair> {
  const alg = keyAlgorithm(keyType);
  return (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as KeyPair;
}

function keyAlgorithm(keyType: KeyType): webcrypto.EcKeyGenParams | webcrypto.RsaHashedKeyGenParams {
  switch (keyType) {
    case 'ec-p256':
      return { name: 'ECDSA', namedCurve: 'P-256' };
    case 'ec-p384':
      return { name: 'ECDSA', namedCurve: 'P-384' };
    case 'rsa-2048':
    case 'rsa-1024':
      return { name: 'RSASSA-PKCS1-v1_5', modulusLength: keyType === 'rsa-2048' ? 2048 : 1024, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' };
  }
}

async function buildCert(opts: CertOptions, keys: KeyPair, keyType: KeyType, issuer: Issuer): Promise<IssuedCert> {
  const hash = opts.hash ?? 'SHA-256';
  const signingAlgorithm = issuer.keyType.startsWith('ec') ? { name: 'ECDSA', hash } : { name: 'RSASSA-PKCS1-v1_5', hash };
  const extensions: x509.Extension[] = [];
  if (opts.isCa !== null && opts.isCa !== undefined) extensions.push(new x509.BasicConstraintsExtension(opts.isCa, opts.pathLen, true));
  if (opts.keyUsage !== null && opts.keyUsage !== undefined) extensions.push(new x509.KeyUsagesExtension(opts.keyUsage, opts.keyUsageCritical ?? true));
  if (opts.eku !== null && opts.eku !== undefined) extensions.push(new x509.ExtendedKeyUsageExtension(opts.eku, false));
  const uris = opts.uris ?? [];
  const dnsNames = opts.dnsNames ?? [];
  if (uris.length > 0 || dnsNames.length > 0) extensions.push(sanExtension(uris, dnsNames, opts.sanCritical ?? false));
  if (opts.nameConstraints !== undefined) extensions.push(nameConstraintsExtension(opts.nameConstraints));
  extensions.push(...(opts.extraExtensions ?? []));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerialHex(),
    subject: opts.subject ?? '',
    issuer: issuer.subject,
    notBefore: opts.notBefore ?? new Date(Date.now() - 10_000),
    notAfter: opts.notAfter ?? new Date(Date.now() + 3600_000),
    publicKey: keys.publicKey as never,
    signingKey: issuer.keys.privateKey as never,
    signingAlgorithm: signingAlgorithm as never,
    extensions,
  });
  const der = Buffer.from(cert.rawData);
  const privateKeyDer = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  return {
    certificate: cert,
    der,
    pem: encodePem('CERTIFICATE', der),
    keys,
    keyType,
    privateKeyDer,
    privateKeyPem: encodePem('PRIVATE KEY', privateKeyDer),
  };
}

function randomSerialHex(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = bytes[0]! & 0x7f | 0x01; // positive, no leading zero byte
  return Buffer.from(bytes).toString('hex');
}

// --- tiny DER encoder: just what SAN and name constraints need ---

export function derTlv(tag: number, content: Uint8Array): Buffer {
  const len = content.length;
  let header: number[];
  if (len < 0x80) header = [tag, len];
  else if (len < 0x100) header = [tag, 0x81, len];
  else header = [tag, 0x82, len >> 8, len & 0xff];
  return Buffer.concat([Buffer.from(header), content]);
}

/** A GeneralName of an IA5String kind, bytes taken verbatim (latin1). */
function generalName(tag: number, value: string): Buffer {
  return derTlv(tag, Buffer.from(value, 'latin1'));
}

export function sanExtension(uris: string[], dnsNames: string[], critical = false): x509.Extension {
  const names = [...uris.map((u) => generalName(0x86, u)), ...dnsNames.map((d) => generalName(0x82, d))];
  return new x509.Extension('2.5.29.17', critical, derTlv(0x30, Buffer.concat(names)));
}

function nameConstraintsExtension(spec: NameConstraintsSpec): x509.Extension {
  const subtree = (name: Buffer): Buffer => derTlv(0x30, name);
  const permitted = [
    ...(spec.permittedUris ?? []).map((u) => subtree(generalName(0x86, u))),
    ...(spec.permittedDns ?? []).map((d) => subtree(generalName(0x82, d))),
    ...(spec.permittedDirectoryNames ?? []).map((n) => subtree(derTlv(0xa4, n))),
  ];
  const excluded = [
    ...(spec.excludedUris ?? []).map((u) => subtree(generalName(0x86, u))),
    ...(spec.excludedDns ?? []).map((d) => subtree(generalName(0x82, d))),
  ];
  const parts: Buffer[] = [];
  if (permitted.length > 0) parts.push(derTlv(0xa0, Buffer.concat(permitted)));
  if (excluded.length > 0) parts.push(derTlv(0xa1, Buffer.concat(excluded)));
  return new x509.Extension('2.5.29.30', true, derTlv(0x30, Buffer.concat(parts)));
}
