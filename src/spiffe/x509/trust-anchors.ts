/**
 * Parsed roots per Bundle, cached: a Bundle is immutable, so its roots are
 * parsed and their KeyObjects imported once, then found by subject DER.
 * A WeakMap lets a rotated-out Bundle and its cache be collected together.
 */
import type { Bundle } from '../bundle.js';
import { ParsedCertificate } from './certificate.js';
import { X509SvidError } from './x509-svid-error.js';

export class TrustAnchors {
  readonly #bySubject = new Map<string, ParsedCertificate[]>();

  constructor(roots: Iterable<Uint8Array>) {
    for (const der of roots) {
      let root: ParsedCertificate;
      try {
        root = ParsedCertificate.fromDer(der);
      } catch (err) {
        // A root we cannot parse (or that has an unknown critical extension) vouches for nothing.
        if (err instanceof X509SvidError) continue;
        throw err;
      }
      const key = subjectKey(root.subject);
      const list = this.#bySubject.get(key);
      if (list === undefined) this.#bySubject.set(key, [root]);
      else list.push(root);
    }
  }

  /** Roots whose subject is exactly `issuer` (raw DER). */
  issuersOf(issuer: Buffer): readonly ParsedCertificate[] {
    return this.#bySubject.get(subjectKey(issuer)) ?? NONE;
  }
}

const NONE: readonly ParsedCertificate[] = Object.freeze([]);
const cache = new WeakMap<Bundle, TrustAnchors>();

export function trustAnchorsOf(bundle: Bundle): TrustAnchors {
  let anchors = cache.get(bundle);
  if (anchors === undefined) {
    anchors = new TrustAnchors(bundle.x509Authorities());
    cache.set(bundle, anchors);
  }
  return anchors;
}

/** latin1 keeps every byte distinct, so equal keys mean equal DER. */
function subjectKey(name: Buffer): string {
  return name.toString('latin1');
}
