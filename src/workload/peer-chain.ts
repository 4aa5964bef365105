/**
 * The certificate chain a TLS peer presented, as DER, leaf first. Node hands
 * it over as a linked list of parsed certificates (`issuerCertificate`),
 * ending in a self-reference; we take only the raw bytes and let the SPIFFE
 * verifier decide what is trusted (roots only from the bundle).
 */
import type { DetailedPeerCertificate, PeerCertificate, TLSSocket } from 'node:tls';

/** At most this many certificates are taken from a peer. */
const MAX_PEER_CHAIN = 16;

export function peerChainDer(socket: TLSSocket): Buffer[] {
  return chainFromPeerCertificate(socket.getPeerCertificate(true));
}

/** The DER chain from a (detailed) peer certificate as Node reports it. */
export function chainFromPeerCertificate(peer: PeerCertificate | DetailedPeerCertificate | undefined): Buffer[] {
  const chain: Buffer[] = [];
  let cert = peer as DetailedPeerCertificate | undefined;
  const seen = new Set<DetailedPeerCertificate>();
  while (cert?.raw && !seen.has(cert) && chain.length < MAX_PEER_CHAIN) {
    seen.add(cert);
    chain.push(cert.raw);
    const next: DetailedPeerCertificate | undefined = cert.issuerCertificate;
    if (!next || next === cert || next.raw?.equals(cert.raw)) break;
    cert = next;
  }
  return chain;
}
