/** Shared fixtures for the SDK tests: two CAs, SVID minting, a mutable source. */
import { EventEmitter } from 'node:events';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initCaDirectory, type CertificateAuthority } from '../../src/ca/index.js';
import type { Bundle } from '../../src/spiffe/bundle.js';
import { BundleSet } from '../../src/spiffe/bundle-set.js';
import { encodePem } from '../../src/spiffe/pem.js';
import type { TrustDomain } from '../../src/spiffe/trust-domain.js';
import { X509Svid } from '../../src/spiffe/x509/x509-svid.js';

export function newCa(trustDomain: string): CertificateAuthority {
  return initCaDirectory({ dir: join(mkdtempSync(join(tmpdir(), 'mw-sdk-')), 'ca'), trustDomain });
}

export const exampleCa = newCa('example.org');
export const otherCa = newCa('other.org');

export function svidFrom(ca: CertificateAuthority, id: string, ttlSeconds = 600, now?: Date): X509Svid {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const minted = ca.mintX509Svid({ spiffeId: id, publicKey, ttlSeconds, now });
  return X509Svid.parse(minted.chain.map((d) => encodePem('CERTIFICATE', d)).join(''), privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
}

/** A source whose SVID and bundles tests change at will; emits `update` like a live source. */
export class MutableSource extends EventEmitter {
  svid: X509Svid;
  bundles: BundleSet;
  constructor(svid: X509Svid, ...bundles: Bundle[]) {
    super();
    this.svid = svid;
    this.bundles = new BundleSet(bundles);
  }
  getX509Svid(): X509Svid {
    return this.svid;
  }
  getX509BundleForTrustDomain(td: TrustDomain): Bundle | undefined {
    return this.bundles.getX509BundleForTrustDomain(td);
  }
  getJwtBundleForTrustDomain(td: TrustDomain): Bundle | undefined {
    return this.bundles.getJwtBundleForTrustDomain(td);
  }
  rotate(svid: X509Svid): void {
    this.svid = svid;
    this.emit('update');
  }
  setBundles(...bundles: Bundle[]): void {
    this.bundles = new BundleSet(bundles);
    this.emit('update');
  }
}
