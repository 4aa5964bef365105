/**
 * Reads a bundle file given to `svid verify` / `jwt verify`: SPIFFE bundle JSON
 * or PEM certificates. Its trust domain is the one given by the flag, or else
 * the one its X.509 authorities name in their URI SAN; with neither, refuse.
 */
import { Bundle } from '../spiffe/bundle.js';
import { trustDomainOfAuthorities } from '../spiffe/bundle-trust-domain.js';
import { looksLikePem } from '../spiffe/pem.js';
import { TrustDomain } from '../spiffe/trust-domain.js';
import { readInputFile, trustDomainFlag } from './io.js';
import { UsageError } from './usage-error.js';

const PLACEHOLDER = TrustDomain.parse('placeholder.invalid');

export function readBundleFile(path: string, trustDomain: string | undefined, accept: 'pem-or-spiffe' | 'spiffe'): Bundle {
  const data = readInputFile(path, '--bundle');
  const isPem = looksLikePem(data);
  if (isPem && accept === 'spiffe') throw new UsageError(`--bundle ${path}: expected SPIFFE bundle JSON (as "bundle show --format spiffe" writes), found PEM`);
  let provisional: Bundle;
  try {
    provisional = isPem ? Bundle.fromX509Pem(data.toString('utf8'), PLACEHOLDER) : Bundle.parse(data, PLACEHOLDER);
  } catch (err) {
    throw new UsageError(`--bundle ${path}: ${(err as Error).message}`);
  }
  let td: TrustDomain;
  if (trustDomain !== undefined) {
    td = trustDomainFlag(trustDomain, '--trust-domain');
  } else {
    const named = trustDomainOfAuthorities(provisional.x509Authorities());
    if (typeof named === 'string') {
      throw new UsageError(`--bundle ${path}: cannot tell its trust domain (${named}); pass --trust-domain`);
    }
    td = named;
  }
  return new Bundle(td, {
    x509Authorities: provisional.x509Authorities(),
    jwtAuthorities: provisional.jwtAuthorities().values(),
    sequence: provisional.sequence,
    refreshHint: provisional.refreshHint,
  });
}
