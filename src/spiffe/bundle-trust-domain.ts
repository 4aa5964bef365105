/**
 * The trust domain a set of CA certificates speaks for, read from their URI
 * SAN `spiffe://<td>` (as SPIFFE CAs carry it). Used when a PEM bundle comes
 * without a stated trust domain; every authority must name the same one.
 */
import { ParsedCertificate } from './x509/certificate.js';
import { SpiffeId } from './spiffe-id.js';
import type { TrustDomain } from './trust-domain.js';

/** The one trust domain named by the authorities, or a string saying why there is none. */
export function trustDomainOfAuthorities(authorities: readonly Uint8Array[]): TrustDomain | string {
  if (authorities.length === 0) return 'the bundle holds no X.509 authority';
  let found: TrustDomain | undefined;
  for (const der of authorities) {
    let uris: readonly string[];
    try {
      uris = ParsedCertificate.fromDer(der).extensions.uris;
    } catch (err) {
      return `an authority could not be parsed (${(err as Error).message})`;
    }
    const ids = uris.map((u) => SpiffeId.tryParse(u)).filter((id) => id !== null && id.isTrustDomainId());
    if (ids.length !== 1) return 'an authority does not carry exactly one trust-domain URI SAN (spiffe://<td>)';
    const td = ids[0]!.trustDomain;
    if (found && !found.equals(td)) return `the authorities name different trust domains (${found.name}, ${td.name})`;
    found = td;
  }
  return found!;
}
