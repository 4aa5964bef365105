/**
 * Authorizers decide whether a peer's verified SPIFFE ID may proceed. They run
 * after chain verification: passing verification is authentication only.
 * Each returns `true` to allow; callers treat anything else as a denial.
 */
import { SpiffeId } from './spiffe-id.js';
import { TrustDomain } from './trust-domain.js';

export type Authorizer = (id: SpiffeId) => boolean;

/** Allows any verified peer, of any trust domain the bundle source trusts. Use with care. */
export function authorizeAny(): Authorizer {
  return () => true;
}

/** Allows exactly one SPIFFE ID. */
export function authorizeId(id: SpiffeId | string): Authorizer {
  const expected = typeof id === 'string' ? SpiffeId.parse(id).toString() : id.toString();
  return (peer) => peer.toString() === expected;
}

/** Allows any of the listed SPIFFE IDs. */
export function authorizeOneOf(...ids: Array<SpiffeId | string>): Authorizer {
  const allowed = new Set(ids.map((id) => (typeof id === 'string' ? SpiffeId.parse(id).toString() : id.toString())));
  return (peer) => allowed.has(peer.toString());
}

/** Allows any workload ID (with a path) in the trust domain. */
export function authorizeMemberOf(trustDomain: TrustDomain | string): Authorizer {
  const td = typeof trustDomain === 'string' ? TrustDomain.parse(trustDomain) : trustDomain;
  return (peer) => peer.memberOf(td) && !peer.isTrustDomainId();
}
