/**
 * Attests one caller of the Workload API: runs every attestor on the
 * connection's peer credentials, then checks that the pid still names the
 * same process as when it connected (same start time, uid and gid) — a
 * process that exited and whose pid was reused must not get its
 * predecessor's identity (SPIRE's peertracker). Any failure is
 * ERR_AGENT_ATTESTATION_FAILED / ERR_AGENT_PID_REUSED.
 */
import { AgentError } from '../agent-error.js';
import type { PeerCredentials } from '../peer-credentials.js';
import { procIdentity, type ProcReader } from './proc.js';
import type { Selector, WorkloadAttestor } from './workload-attestor.js';

/** What is recorded when a connection is accepted. */
export interface ConnectedPeer extends PeerCredentials {
  readonly startTime: string;
}

export function recordPeer(creds: PeerCredentials, proc: ProcReader): ConnectedPeer {
  return Object.freeze({ ...creds, startTime: proc.startTime(creds.pid) });
}

export async function attestCaller(peer: ConnectedPeer, attestors: readonly WorkloadAttestor[], proc: ProcReader): Promise<Selector[]> {
  const selectors: Selector[] = [];
  try {
    for (const attestor of attestors) selectors.push(...(await attestor.attest(peer)));
  } catch (err) {
    throw new AgentError('ERR_AGENT_ATTESTATION_FAILED', 'workload attestation failed', { cause: err });
  }
  let now;
  try {
    now = await procIdentity(proc, peer.pid);
  } catch (err) {
    throw new AgentError('ERR_AGENT_PID_REUSED', 'workload attestation failed: the caller exited during attestation', { cause: err });
  }
  if (now.startTime !== peer.startTime || now.uid !== peer.uid || now.gid !== peer.gid) {
    throw new AgentError('ERR_AGENT_PID_REUSED', 'workload attestation failed: new process detected behind the caller\'s pid');
  }
  return selectors;
}
