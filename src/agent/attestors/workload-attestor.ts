/**
 * Workload attestation: from the kernel's credentials of a caller to the
 * selectors that registration entries match (`unix:uid:1000`). An attestor
 * is an interface so that others (docker, Kubernetes, systemd) can be added
 * beside `unix`.
 */
import type { PeerCredentials } from '../peer-credentials.js';

export interface Selector {
  readonly type: string;
  readonly value: string;
}

export interface WorkloadAttestor {
  /** The selector type it produces (`unix`). */
  readonly name: string;
  /** Selectors for the process; throws when the process cannot be examined. */
  attest(peer: PeerCredentials): Promise<Selector[]>;
}

/** `type:value`, the form entries are matched on. */
export function selectorKey(s: Selector): string {
  return `${s.type}:${s.value}`;
}
