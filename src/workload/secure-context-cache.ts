/**
 * One TLS SecureContext per SVID: building a context parses the key and
 * chain, so it is done once per rotation, not once per connection.
 */
import { createSecureContext, type SecureContext } from 'node:tls';
import type { X509Svid } from '../spiffe/x509/x509-svid.js';

const contexts = new WeakMap<X509Svid, SecureContext>();

export function secureContextFor(svid: X509Svid): SecureContext {
  let context = contexts.get(svid);
  if (!context) {
    context = createSecureContext({ cert: svid.certificatesPem(), key: svid.privateKeyPem(), minVersion: 'TLSv1.3' });
    contexts.set(svid, context);
  }
  return context;
}
