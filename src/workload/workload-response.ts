/**
 * Reading Workload API responses, defensively (issue 5, "Workload API client
 * behaviour"): every message is a whole snapshot; a mandatory field holding
 * its default value discards the whole message (the caller keeps its last
 * good state); an SVID that is expired, does not chain to its bundle, breaks
 * the SVID profile, has a mismatched key or a `spiffe_id` that differs from
 * its URI SAN is ignored with a log line; bundles are kept per trust domain
 * and never merged.
 */
import { Bundle } from '../spiffe/bundle.js';
import { BundleSet } from '../spiffe/bundle-set.js';
import { JwtSvid } from '../spiffe/jwt/jwt-svid.js';
import { SpiffeId } from '../spiffe/spiffe-id.js';
import { TrustDomain } from '../spiffe/trust-domain.js';
import { splitDerCertificates } from '../spiffe/x509/certificate.js';
import { verifyX509Svid } from '../spiffe/x509/verify.js';
import { X509Svid } from '../spiffe/x509/x509-svid.js';
import { WorkloadError } from './errors.js';
import type { WorkloadLogger } from './logger.js';

export interface X509Context {
  /** Usable SVIDs, in the server's order; the first is the default identity. */
  readonly svids: readonly X509Svid[];
  /** The bundles of our trust domain(s) and of the federated ones, each apart. */
  readonly bundles: BundleSet;
}

interface RawX509Svid {
  spiffe_id?: string;
  x509_svid?: Buffer;
  x509_svid_key?: Buffer;
  bundle?: Buffer;
  hint?: string;
}

function invalid(message: string): WorkloadError {
  return new WorkloadError('ERR_WORKLOAD_INVALID_RESPONSE', `Workload API response discarded: ${message}`);
}

const isEmpty = (b: Uint8Array | undefined) => b === undefined || b === null || b.length === 0;

/** A bundle map key: `spiffe://td` (SPIRE) or a bare name (tolerated, as go-spiffe does). */
export function trustDomainOfKey(key: string): TrustDomain {
  if (key.includes('://')) {
    const id = SpiffeId.parse(key);
    if (!id.isTrustDomainId()) throw new Error(`bundle key ${JSON.stringify(key)} is not a trust domain ID`);
    return id.trustDomain;
  }
  return TrustDomain.parse(key);
}

export function parseX509SvidResponse(msg: { svids?: RawX509Svid[]; federated_bundles?: Record<string, Buffer> }, log: WorkloadLogger, now = new Date()): X509Context {
  const raw = msg.svids ?? [];
  if (raw.length === 0) throw invalid('no SVIDs');
  raw.forEach((s, i) => {
    if (!s.spiffe_id) throw invalid(`SVID ${i} has an empty spiffe_id`);
    if (isEmpty(s.x509_svid)) throw invalid(`SVID ${i} has an empty certificate`);
    if (isEmpty(s.x509_svid_key)) throw invalid(`SVID ${i} has an empty key`);
    if (isEmpty(s.bundle)) throw invalid(`SVID ${i} has an empty bundle`);
  });
  const bundles = new BundleSet();
  const svids: X509Svid[] = [];
  const hints = new Set<string>();
  for (const s of raw) {
    let td: TrustDomain;
    try {
      td = SpiffeId.parse(s.spiffe_id!).trustDomain;
      if (!bundles.get(td)) bundles.set(new Bundle(td, { x509Authorities: splitDerCertificates(s.bundle!) }));
    } catch (err) {
      throw invalid(`SVID bundle or ID is malformed: ${(err as Error).message}`);
    }
    try {
      const svid = X509Svid.parse(s.x509_svid!, s.x509_svid_key!, s.hint ? { hint: s.hint } : {});
      if (svid.id.toString() !== s.spiffe_id) throw new Error(`spiffe_id ${JSON.stringify(s.spiffe_id)} differs from the certificate's URI SAN ${svid.id}`);
      verifyX509Svid(svid.certificates, bundles, { now });
      if (s.hint) {
        if (hints.has(s.hint)) {
          log.warn({ spiffeId: s.spiffe_id, hint: s.hint }, 'ignoring an X.509-SVID with a duplicate hint (the first one wins)');
          continue;
        }
        hints.add(s.hint);
      }
      svids.push(svid);
    } catch (err) {
      log.warn({ spiffeId: s.spiffe_id, code: (err as { code?: string }).code, reason: (err as Error).message }, 'ignoring an X.509-SVID from the Workload API');
    }
  }
  if (svids.length === 0) throw invalid('no usable SVID');
  for (const [key, der] of Object.entries(msg.federated_bundles ?? {})) {
    try {
      const td = trustDomainOfKey(key);
      if (bundles.get(td)) {
        log.warn({ trustDomain: td.name }, 'ignoring a federated bundle for our own trust domain (bundles are never merged)');
        continue;
      }
      if (isEmpty(der)) continue; // nothing trusted for that trust domain
      bundles.set(new Bundle(td, { x509Authorities: splitDerCertificates(der) }));
    } catch (err) {
      log.warn({ key, reason: (err as Error).message }, 'ignoring a malformed federated bundle');
    }
  }
  return { svids, bundles };
}

export function parseX509BundlesResponse(msg: { bundles?: Record<string, Buffer> }, log: WorkloadLogger): BundleSet {
  const entries = Object.entries(msg.bundles ?? {});
  if (entries.length === 0) throw invalid('no bundles');
  const set = new BundleSet();
  for (const [key, der] of entries) {
    try {
      const td = trustDomainOfKey(key);
      if (isEmpty(der)) continue;
      set.set(new Bundle(td, { x509Authorities: splitDerCertificates(der) }));
    } catch (err) {
      log.warn({ key, reason: (err as Error).message }, 'ignoring a malformed X.509 bundle');
    }
  }
  return set;
}

export function parseJwtBundlesResponse(msg: { bundles?: Record<string, Buffer> }, log: WorkloadLogger): BundleSet {
  const entries = Object.entries(msg.bundles ?? {});
  if (entries.length === 0) throw invalid('no bundles');
  const set = new BundleSet();
  for (const [key, jwks] of entries) {
    try {
      const td = trustDomainOfKey(key);
      set.set(Bundle.fromJwks(jwks, td));
    } catch (err) {
      // fail closed for that trust domain: nothing of it is trusted until a good document arrives
      log.warn({ key, reason: (err as Error).message }, 'ignoring a malformed JWT bundle (nothing of that trust domain is trusted)');
    }
  }
  return set;
}

export function parseJwtSvidResponse(msg: { svids?: Array<{ spiffe_id?: string; svid?: string; hint?: string }> }, audience: readonly string[], log: WorkloadLogger): JwtSvid[] {
  const raw = msg.svids ?? [];
  if (raw.length === 0) throw invalid('no JWT-SVIDs');
  const out: JwtSvid[] = [];
  for (const [i, s] of raw.entries()) {
    if (!s.spiffe_id || !s.svid) throw invalid(`JWT-SVID ${i} has an empty spiffe_id or token`);
    try {
      const svid = JwtSvid.parseInsecure(s.svid, audience, s.hint ? { hint: s.hint } : undefined);
      if (svid.id.toString() !== s.spiffe_id) throw new Error(`spiffe_id ${JSON.stringify(s.spiffe_id)} differs from the token subject ${svid.id}`);
      out.push(svid);
    } catch (err) {
      log.warn({ spiffeId: s.spiffe_id, code: (err as { code?: string }).code, reason: (err as Error).message }, 'ignoring a JWT-SVID from the Workload API');
    }
  }
  if (out.length === 0) throw invalid('no usable JWT-SVID');
  return out;
}
