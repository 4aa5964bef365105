/**
 * The SPIFFE check of a TLS peer: its presented chain verified against the
 * bundle of the peer's own trust domain, then the authorizer. It runs on
 * every connection, resumed or not (resumption is switched off anyway).
 */
import type { DetailedPeerCertificate, PeerCertificate, TLSSocket } from 'node:tls';
import { MeshwardError } from '../errors.js';
import type { Authorizer } from '../spiffe/authorizers.js';
import type { X509BundleSource } from '../spiffe/sources.js';
import type { SpiffeId } from '../spiffe/spiffe-id.js';
import { verifyX509Svid } from '../spiffe/x509/verify.js';
import { chainFromPeerCertificate, peerChainDer } from './peer-chain.js';

export class PeerVerificationError extends MeshwardError {
  constructor(code: 'ERR_PEER_NO_CERTIFICATE' | 'ERR_PEER_INVALID_SVID' | 'ERR_PEER_UNAUTHORIZED', message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

export function verifyTlsPeer(socket: TLSSocket, bundles: X509BundleSource, authorize: Authorizer, now?: Date): SpiffeId {
  return verifyPeerChain(peerChainDer(socket), bundles, authorize, now);
}

/** The same check from a peer certificate as `checkServerIdentity` receives it (detailed, with issuers). */
export function verifyPeerCertificate(cert: PeerCertificate | DetailedPeerCertificate, bundles: X509BundleSource, authorize: Authorizer, now?: Date): SpiffeId {
  return verifyPeerChain(chainFromPeerCertificate(cert), bundles, authorize, now);
}

export function verifyPeerChain(chain: readonly Buffer[], bundles: X509BundleSource, authorize: Authorizer, now?: Date): SpiffeId {
  if (chain.length === 0) throw new PeerVerificationError('ERR_PEER_NO_CERTIFICATE', 'peer presented no certificate');
  let id: SpiffeId;
  try {
    id = verifyX509Svid(chain, bundles, now ? { now } : undefined).id;
  } catch (err) {
    throw new PeerVerificationError('ERR_PEER_INVALID_SVID', `peer SVID is not valid: ${(err as Error).message}`, { cause: err });
  }
  let allowed = false;
  try {
    allowed = authorize(id) === true;
  } catch (err) {
    throw new PeerVerificationError('ERR_PEER_UNAUTHORIZED', `peer ${id} is not authorized: the authorizer threw`, { cause: err });
  }
  if (!allowed) throw new PeerVerificationError('ERR_PEER_UNAUTHORIZED', `peer ${id} is not authorized`);
  return id;
}
