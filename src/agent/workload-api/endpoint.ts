/**
 * The Workload API endpoint: gRPC on a Unix socket. The directory is
 * created 0755 and the socket made 0777, as SPIRE's public socket: every
 * local process, whatever its uid, must be able to ask for its identity —
 * which identity it gets is decided by attestation, not by file modes.
 * A stale socket file left by a dead agent is replaced; a live one (another
 * agent answering) or a non-socket file at the path is an error.
 */
import { chmodSync, lstatSync, mkdirSync, unlinkSync } from 'node:fs';
import type { Http2Server, Http2Session } from 'node:http2';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import { AgentConfigError } from '../agent-error.js';
import { recordPeer, releasePeer, type ConnectedPeer } from '../attestors/attest-caller.js';
import type { ProcReader } from '../attestors/proc.js';
import { peerCredentialsOf } from '../peer-credentials.js';
import { createGrpcServer } from './grpc-server.js';
import { workloadApiMethods, type WorkloadApiDeps } from './handlers.js';
import { policyDistributionMethods } from './policy-service.js';
import { CallRunner } from './call-runner.js';
import { checkSecurityHeader } from './security-header.js';

/** `unix:///abs/path` (SPIFFE_ENDPOINT_SOCKET form) or a plain absolute path → the path. */
export function parseSocketAddress(value: string): string {
  if (value.startsWith('unix:')) {
    const m = /^unix:\/\/(\/[^?#]*)$/.exec(value);
    if (m === null) throw new AgentConfigError('socket_path', `"${value}" is not a unix:///absolute/path URI (no authority, query or fragment)`);
    return m[1]!;
  }
  if (/^[a-z][a-z0-9+.-]*:/i.test(value)) throw new AgentConfigError('socket_path', `"${value}": only unix:// sockets are served`);
  return value;
}

export interface WorkloadEndpoint {
  readonly socketPath: string;
  readonly server: Http2Server;
  close(): Promise<void>;
}

export async function startWorkloadEndpoint(socketPath: string, deps: WorkloadApiDeps & { readonly proc: ProcReader }): Promise<WorkloadEndpoint> {
  if (Buffer.byteLength(socketPath) > 100) throw new AgentConfigError('socket_path', `${socketPath} is too long for a Unix socket path (at most 100 bytes)`);
  mkdirSync(dirname(socketPath), { recursive: true, mode: 0o755 });
  await removeStaleSocket(socketPath);
  // One runner for both services: a connection is attested once, whichever it calls.
  const runner = new CallRunner(deps);
  const server = createGrpcServer<ConnectedPeer>({
    methods: { ...workloadApiMethods(deps, { runner }), ...policyDistributionMethods(deps, { runner }) },
    onConnection: (socket) => {
      const peer = recordPeer(peerCredentialsOf(socket), deps.proc);
      socket.once('close', () => releasePeer(peer));
      return peer;
    },
    precheck: (call) => checkSecurityHeader(call.rawHeaders),
    onError: (err, where) => deps.log.debug({ where, err: (err as Error)?.message }, 'workload API connection error'),
  });
  const open = new Set<Http2Session>();
  server.on('session', (session: Http2Session) => {
    open.add(session);
    session.once('close', () => open.delete(session));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  chmodSync(socketPath, 0o777);
  return {
    socketPath,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Open streams would keep close() waiting: end their sessions.
        for (const session of open) session.destroy();
      }),
  };
}

async function removeStaleSocket(path: string): Promise<void> {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return;
  }
  if (!st.isSocket()) throw new AgentConfigError('socket_path', `${path} exists and is not a socket`);
  const live = await new Promise<boolean>((resolve) => {
    const c = connect(path);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
  if (live) throw new AgentConfigError('socket_path', `${path} is in use by another process (another agent?)`);
  unlinkSync(path);
}
