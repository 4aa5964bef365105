/**
 * The kernel's credentials of the process at the other end of a Unix socket
 * (SO_PEERCRED on Linux): pid, uid, gid as they were when the peer called
 * connect(). Node has no public API for them, so we call libc's getsockopt
 * through koffi (an FFI whose binaries ship in its npm package) on the
 * socket's file descriptor.
 *
 * The file descriptor comes from `socket._handle.fd`, which libuv exposes
 * for pipes on Unix. It is read once, on the server's 'connection' event,
 * before any byte of the request is read.
 */
import type { Socket } from 'node:net';
import { createRequire } from 'node:module';
import { AgentError } from './agent-error.js';

export interface PeerCredentials {
  readonly pid: number;
  readonly uid: number;
  readonly gid: number;
}

const SOL_SOCKET = 1;
const SO_PEERCRED = 17;
/** struct ucred { pid_t pid; uid_t uid; gid_t gid; } — three 32-bit fields. */
const UCRED_SIZE = 12;

type GetSockOpt = (fd: number, level: number, name: number, value: Buffer, length: Uint32Array) => number;
let getsockopt: GetSockOpt | undefined;
let errnoOf: (() => number) | undefined;

function load(): GetSockOpt {
  if (getsockopt !== undefined) return getsockopt;
  if (process.platform !== 'linux') throw new AgentError('ERR_AGENT_PEER_CREDENTIALS', `peer credentials: SO_PEERCRED is only supported on Linux (this is ${process.platform})`);
  const require = createRequire(import.meta.url);
  const koffi = require('koffi') as typeof import('koffi');
  const libc = koffi.load('libc.so.6');
  getsockopt = libc.func('int getsockopt(int fd, int level, int optname, _Out_ uint8_t *optval, _Inout_ uint32_t *optlen)') as unknown as GetSockOpt;
  const errno = (koffi as unknown as { errno?: () => number }).errno;
  errnoOf = typeof errno === 'function' ? errno : undefined;
  return getsockopt;
}

/** The file descriptor of a connected Unix socket, or undefined when libuv does not expose it. */
export function socketFd(socket: Socket): number | undefined {
  const handle = (socket as unknown as { _handle?: { fd?: unknown } })._handle;
  const fd = handle?.fd;
  return typeof fd === 'number' && Number.isInteger(fd) && fd >= 0 ? fd : undefined;
}

/** Reads SO_PEERCRED of a file descriptor. Throws AgentError when the kernel does not answer. */
export function peerCredentialsOfFd(fd: number): PeerCredentials {
  const call = load();
  const buf = Buffer.alloc(UCRED_SIZE);
  const len = new Uint32Array([UCRED_SIZE]);
  const rc = call(fd, SOL_SOCKET, SO_PEERCRED, buf, len);
  if (rc !== 0 || len[0] !== UCRED_SIZE) {
    const errno = errnoOf?.();
    throw new AgentError('ERR_AGENT_PEER_CREDENTIALS', `peer credentials: getsockopt(SO_PEERCRED) failed${errno === undefined ? '' : ` (errno ${errno})`}`);
  }
  const pid = buf.readInt32LE(0);
  const uid = buf.readUInt32LE(4);
  const gid = buf.readUInt32LE(8);
  if (pid <= 0) throw new AgentError('ERR_AGENT_PEER_CREDENTIALS', 'peer credentials: the peer has no process id (a socket from another PID namespace?)');
  return Object.freeze({ pid, uid, gid });
}

/** Reads SO_PEERCRED of a connected Unix socket. */
export function peerCredentialsOf(socket: Socket): PeerCredentials {
  const fd = socketFd(socket);
  if (fd === undefined) throw new AgentError('ERR_AGENT_PEER_CREDENTIALS', 'peer credentials: the socket has no file descriptor');
  return peerCredentialsOfFd(fd);
}
