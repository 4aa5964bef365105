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
import { procIdentity, type ProcIdentityHandle, type ProcReader } from './proc.js';
import { selectorKey, type Selector, type WorkloadAttestor } from './workload-attestor.js';

/** What is recorded when a connection is accepted. */
export interface ConnectedPeer extends PeerCredentials {
  readonly startTime: string;
}

/** The process files kept open for a connection (ProcReader.openIdentity), until {@link releasePeer}. */
const handles = new WeakMap<ConnectedPeer, ProcIdentityHandle>();

/**
 * Records the peer of a new connection: its start time now. With a reader
 * that keeps files open, the files are opened here (bound to this process)
 * and kept for the pid-reuse check of every call, until releasePeer.
 */
export function recordPeer(creds: PeerCredentials, proc: ProcReader): ConnectedPeer {
  if (proc.openIdentity === undefined) return Object.freeze({ ...creds, startTime: proc.startTime(creds.pid) });
  const handle = proc.openIdentity(creds.pid);
  let peer: ConnectedPeer;
  try {
    peer = Object.freeze({ ...creds, startTime: handle.read().startTime });
  } catch (err) {
    handle.close();
    throw err;
  }
  handles.set(peer, handle);
  return peer;
}

/**
 * The connection is gone: closes its process files. A later check of the
 * same peer (none is expected once its connection closed) falls back to
 * reading /proc by pid, with the start-time comparison.
 */
export function releasePeer(peer: ConnectedPeer): void {
  const handle = handles.get(peer);
  if (handle === undefined) return;
  handles.delete(peer);
  handle.close();
}

export async function attestCaller(peer: ConnectedPeer, attestors: readonly WorkloadAttestor[], proc: ProcReader): Promise<Selector[]> {
  const selectors: Selector[] = [];
  try {
    for (const attestor of attestors) selectors.push(...(await attestor.attest(peer)));
  } catch (err) {
    throw new AgentError('ERR_AGENT_ATTESTATION_FAILED', 'workload attestation failed', { cause: err });
  }
  await verifyPeer(peer, proc);
  return selectors;
}

/**
 * The pid-reuse check: the pid still names the process that connected (same
 * start time — with the pid, one process for the life of the machine — and
 * the same effective uid and gid). On the files kept open for the connection
 * (linuxProc: two ~1 µs system calls), else two reads of /proc by pid.
 */
export async function verifyPeer(peer: ConnectedPeer, proc: ProcReader): Promise<void> {
  let now;
  try {
    const handle = handles.get(peer);
    now = handle !== undefined ? handle.read() : await procIdentity(proc, peer.pid);
  } catch (err) {
    throw new AgentError('ERR_AGENT_PID_REUSED', 'workload attestation failed: the caller exited during attestation', { cause: err });
  }
  if (now.startTime !== peer.startTime || now.uid !== peer.uid || now.gid !== peer.gid) {
    throw new AgentError('ERR_AGENT_PID_REUSED', 'workload attestation failed: new process detected behind the caller\'s pid');
  }
}

/**
 * Attestation once per connection. The peer credentials of a connection
 * never change (the kernel took them at connect()), so its selectors are
 * computed once — the attestors run (name lookups, /proc/PID/exe, the
 * executable's SHA-256) on the first call — and shared by every later call
 * on that connection, including calls made while the first is still being
 * attested. Every call still runs the pid-reuse check ({@link verifyPeer}):
 * a connection whose process exited (its pid reused, or the socket passed on
 * to another process that outlived it) stops being answered. A failed
 * attestation is not kept: the next call tries again.
 *
 * Keyed by the connection's ConnectedPeer object (one per accepted
 * connection), weakly: the entry goes away with the connection.
 *
 * `generation` (optional) names the conditions selectors were computed
 * under: the agent's attestor skips `unix:sha256` while no entry selects on
 * it, and the generation moves when one does. Selectors attested under an
 * older generation are attested again on the next call ({@link stale}).
 */
export class ConnectionAttestations {
  readonly #attestors: readonly WorkloadAttestor[];
  readonly #proc: ProcReader;
  readonly #generation: () => number;
  readonly #byConnection = new WeakMap<ConnectedPeer, { generation: number; pending: Promise<ReadonlySet<string>> }>();

  constructor(attestors: readonly WorkloadAttestor[], proc: ProcReader, generation: () => number = () => 0) {
    this.#attestors = attestors;
    this.#proc = proc;
    this.#generation = generation;
  }

  /** True when the connection has no selectors of the current generation (the next `selectors` call attests). */
  stale(peer: ConnectedPeer): boolean {
    return this.#byConnection.get(peer)?.generation !== this.#generation();
  }

  /** The connection's selectors (`type:value`), attested on first use; throws AgentError as attestCaller. */
  async selectors(peer: ConnectedPeer): Promise<{ selectors: ReadonlySet<string>; fresh: boolean }> {
    const generation = this.#generation(); // read before attesting: a change meanwhile makes these stale
    let slot = this.#byConnection.get(peer);
    let fresh = false;
    if (slot === undefined || slot.generation !== generation) {
      fresh = true;
      const pending = attestCaller(peer, this.#attestors, this.#proc).then((list) => new Set(list.map(selectorKey)) as ReadonlySet<string>);
      const mine = (slot = { generation, pending });
      this.#byConnection.set(peer, mine);
      pending.catch(() => {
        if (this.#byConnection.get(peer) === mine) this.#byConnection.delete(peer);
      });
    }
    const selectors = await slot.pending;
    // attestCaller has just checked the pid; later calls check it again.
    if (!fresh) await verifyPeer(peer, this.#proc);
    return { selectors, fresh };
  }
}
