/**
 * The operator's bootstrap trust (SPIRE's `trust_bundle_path`): a file with
 * the server's CA certificates as PEM, or a SPIFFE bundle document (JSON).
 * Only its X.509 authorities are used, to verify the server before the
 * agent has a bundle from the server itself.
 */
import { readFileSync } from 'node:fs';
import { Bundle, MAX_BUNDLE_BYTES } from '../spiffe/bundle.js';
import { AgentError } from './agent-error.js';

/** DER CA certificates from a PEM or SPIFFE-JSON bundle file. */
export function readTrustBundleFile(path: string): Buffer[] {
  let text: string;
  try {
    const raw = readFileSync(path);
    if (raw.length > MAX_BUNDLE_BYTES) throw new Error(`larger than ${MAX_BUNDLE_BYTES} bytes`);
    text = raw.toString('utf8');
  } catch (err) {
    throw new AgentError('ERR_AGENT_TRUST_BUNDLE', `trust bundle ${path}: ${(err as Error).message}`, { cause: err });
  }
  // The document does not name its trust domain; the placeholder is never used for trust decisions.
  const placeholder = 'bootstrap.invalid';
  let bundle: Bundle;
  try {
    bundle = text.trimStart().startsWith('{') ? Bundle.parse(text, placeholder) : Bundle.fromX509Pem(text, placeholder);
  } catch (err) {
    throw new AgentError('ERR_AGENT_TRUST_BUNDLE', `trust bundle ${path}: ${(err as Error).message}`, { cause: err });
  }
  const roots = [...bundle.x509Authorities()];
  if (roots.length === 0) throw new AgentError('ERR_AGENT_TRUST_BUNDLE', `trust bundle ${path}: holds no X.509 authority`);
  return roots;
}
