/**
 * The X.509-SVID profile checks (X509-SVID.md §4–5), shared by parsing our own
 * SVID and by verifying a peer's: what a leaf and a signing certificate must be.
 */
import { SpiffeIdError } from '../spiffe-id-error.js';
import { SpiffeId } from '../spiffe-id.js';
import type { ParsedCertificate } from './certificate.js';
import { KEY_USAGE } from './extensions.js';
import { OID } from './oids.js';
import { checkKeyAllowed } from './signature-algorithms.js';
import { X509SvidError } from './x509-svid-error.js';

/** The SPIFFE ID in the leaf's one URI SAN. Never falls back to DNS SANs or the subject. */
export function idFromLeaf(leaf: ParsedCertificate): SpiffeId {
  const uris = leaf.extensions.uris;
  if (uris.length === 0) throw new X509SvidError('ERR_X509_SVID_NO_URI_SAN', 'certificate contains no URI SAN');
  if (uris.length > 1) throw new X509SvidError('ERR_X509_SVID_MULTIPLE_URI_SANS', 'certificate contains more than one URI SAN');
  let id: SpiffeId;
  try {
    // Byte-exact: SpiffeId.parse refuses NUL, non-ASCII, uppercase trust domains and every normalisation.
    id = SpiffeId.parse(uris[0]!);
  } catch (err) {
    if (!(err instanceof SpiffeIdError)) throw err;
    throw new X509SvidError('ERR_X509_SVID_BAD_ID', `unable to parse ID: ${err.message}`, { cause: err });
  }
  if (id.isTrustDomainId()) {
    throw new X509SvidError('ERR_X509_SVID_ID_WITHOUT_PATH', `leaf SPIFFE ID ${JSON.stringify(id.toString())} has no path; a trust domain ID is not a workload`);
  }
  return id;
}

/** Leaf rules: not a CA, digitalSignature and no certificate/CRL signing, EKU fit for mTLS. */
export function checkLeaf(leaf: ParsedCertificate): void {
  if (leaf.isCa) throw new X509SvidError('ERR_X509_SVID_LEAF_IS_CA', 'leaf certificate with CA flag set to true');
  const usage = leaf.extensions.keyUsage;
  if (usage === undefined) throw new X509SvidError('ERR_X509_SVID_LEAF_NO_KEY_USAGE', 'leaf certificate must have the key usage extension');
  if (usage & KEY_USAGE.keyCertSign) throw new X509SvidError('ERR_X509_SVID_LEAF_KEY_CERT_SIGN', 'leaf certificate with KeyCertSign key usage');
  if (usage & KEY_USAGE.cRLSign) throw new X509SvidError('ERR_X509_SVID_LEAF_CRL_SIGN', 'leaf certificate with KeyCrlSign key usage');
  if (!(usage & KEY_USAGE.digitalSignature)) {
    throw new X509SvidError('ERR_X509_SVID_LEAF_NO_DIGITAL_SIGNATURE', "leaf certificate must have 'digitalSignature' set as key usage");
  }
  const eku = leaf.extensions.extKeyUsage;
  if (eku !== undefined && !(eku.includes(OID.serverAuth) && eku.includes(OID.clientAuth))) {
    throw new X509SvidError('ERR_X509_SVID_LEAF_EXT_KEY_USAGE', "leaf certificate extended key usage must include 'serverAuth' and 'clientAuth'");
  }
  checkKeyAllowed(leaf.publicKeyKind);
}

/** Signing-certificate rules: CA flag and keyCertSign (RFC 5280 requires keyUsage on CAs). */
export function checkSigner(cert: ParsedCertificate): void {
  if (!cert.isCa) throw new X509SvidError('ERR_X509_SVID_SIGNER_NOT_CA', 'signing certificate must have CA flag set to true');
  const usage = cert.extensions.keyUsage;
  if (usage === undefined || !(usage & KEY_USAGE.keyCertSign)) {
    throw new X509SvidError('ERR_X509_SVID_SIGNER_NO_KEY_CERT_SIGN', "signing certificate must have 'keyCertSign' set as key usage");
  }
}
