/**
 * Reading /proc/PID (Linux): the start time of a process (field 22 of
 * /proc/PID/stat, in clock ticks since boot — with the pid it names one
 * process for the life of the machine), its uids, gids and supplementary
 * groups (/proc/PID/status), its executable (/proc/PID/exe).
 */
import { closeSync, openSync, readFileSync, readSync, readlinkSync } from 'node:fs';

export interface ProcIdentity {
  readonly startTime: string;
  /** Effective uid and gid (what SO_PEERCRED reports). */
  readonly uid: number;
  readonly gid: number;
}

/** Start time from the text of /proc/PID/stat; the command name may hold spaces and parentheses. */
export function parseStatStartTime(stat: string): string {
  const close = stat.lastIndexOf(')');
  if (close < 0) throw new Error('malformed /proc/PID/stat');
  const fields = stat.slice(close + 2).split(' ');
  // fields[0] is field 3 (state); starttime is field 22.
  const start = fields[19];
  if (start === undefined || !/^\d+$/.test(start)) throw new Error('malformed /proc/PID/stat');
  return start;
}

export interface ProcStatus {
  readonly uids: readonly number[];
  readonly gids: readonly number[];
  readonly groups: readonly number[];
}

export function parseStatus(text: string): ProcStatus {
  let uids: number[] | undefined;
  let gids: number[] | undefined;
  let groups: number[] = [];
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const key = line.slice(0, colon);
    if (key !== 'Uid' && key !== 'Gid' && key !== 'Groups') continue;
    const values = line.slice(colon + 1).trim().split(/\s+/).filter((v) => v.length > 0);
    if (!values.every((v) => /^\d{1,10}$/.test(v))) throw new Error(`malformed ${key} line in /proc/PID/status`);
    const nums = values.map(Number);
    if (key === 'Uid') uids = nums;
    else if (key === 'Gid') gids = nums;
    else groups = nums;
  }
  if (uids === undefined || gids === undefined || uids.length < 2 || gids.length < 2) throw new Error('/proc/PID/status has no Uid/Gid lines');
  return { uids, gids, groups };
}

export interface ProcReader {
  startTime(pid: number): string;
  status(pid: number): Promise<ProcStatus>;
  exe(pid: number): Promise<string>;
  /**
   * Optional: a reader of one process's identity on files kept open (one per
   * connection), for the pid-reuse check on every call without an open()
   * per read. Readers without it are read by pid each time.
   */
  openIdentity?(pid: number): ProcIdentityHandle;
}

/** The identity of one process, read from its /proc files opened once. */
export interface ProcIdentityHandle {
  /** The process as it is now; throws when it is gone (or the handle closed). */
  read(): ProcIdentity;
  close(): void;
}

/**
 * Synchronous reads on purpose: /proc files are made by the kernel on read
 * (no disk I/O), and a thread-pool round trip per file would cost more than
 * the read. The start time is read on the 'connection' event, before the
 * peer can exit and be replaced.
 */
export const linuxProc: ProcReader = {
  startTime: (pid) => parseStatStartTime(readFileSync(`/proc/${pid}/stat`, 'latin1')),
  status: async (pid) => parseStatus(readFileSync(`/proc/${pid}/status`, 'latin1')),
  exe: async (pid) => readlinkSync(`/proc/${pid}/exe`),
  openIdentity: (pid) => new ProcFiles(pid),
};

/** One scratch buffer for every read: reads are synchronous and parsed before the next. */
const scratch = Buffer.allocUnsafe(16 * 1024);
const UID_LINE = Buffer.from('\nUid:');
const GID_LINE = Buffer.from('\nGid:');
const CLOSE_PAREN = 0x29;
const SPACE = 0x20;
const TAB = 0x09;
const NEWLINE = 0x0a;

function readAll(fd: number): number {
  const n = readSync(fd, scratch, 0, scratch.length, 0);
  if (n <= 0) throw new Error('empty /proc read (the process is gone)');
  return n;
}

/** Start time (field 22) from the bytes of /proc/PID/stat in `scratch`, as parseStatStartTime. */
function statStartTimeOf(n: number): string {
  if (n >= scratch.length) throw new Error('malformed /proc/PID/stat');
  const close = scratch.lastIndexOf(CLOSE_PAREN, n - 1);
  if (close < 0) throw new Error('malformed /proc/PID/stat');
  // ") " then field 3 (state); 19 more spaces to field 22.
  let i = close + 2;
  for (let field = 0; field < 19; field++) {
    i = scratch.indexOf(SPACE, i);
    if (i < 0 || i >= n) throw new Error('malformed /proc/PID/stat');
    i++;
  }
  let end = i;
  while (end < n && scratch[end]! >= 0x30 && scratch[end]! <= 0x39) end++;
  if (end === i || end - i > 20 || (end < n && scratch[end] !== SPACE && scratch[end] !== NEWLINE)) throw new Error('malformed /proc/PID/stat');
  return scratch.toString('latin1', i, end);
}

/** The second (effective) id of a `Uid:`/`Gid:` line of /proc/PID/status in `scratch`. */
function effectiveIdOf(n: number, line: Buffer): number {
  const at = scratch.indexOf(line);
  if (at < 0 || at >= n) throw new Error('/proc/PID/status has no Uid/Gid lines');
  let i = at + line.length;
  for (let k = 0; k < 2; k++) {
    while (i < n && (scratch[i] === TAB || scratch[i] === SPACE)) i++;
    let value = 0;
    const start = i;
    while (i < n && scratch[i]! >= 0x30 && scratch[i]! <= 0x39) value = value * 10 + (scratch[i++]! - 0x30);
    if (i === start || i - start > 10 || i >= n || (scratch[i] !== TAB && scratch[i] !== SPACE && scratch[i] !== NEWLINE)) throw new Error('malformed Uid/Gid line in /proc/PID/status');
    if (k === 1) return value;
  }
  throw new Error('unreachable');
}

/**
 * /proc/PID/stat and /proc/PID/status opened once and read at offset 0 on
 * every check. An open /proc/PID file stays bound to the process it was
 * opened for: once that process is gone, reads fail even if the pid is
 * reused — so a kept file can only ever describe the process that connected.
 */
class ProcFiles implements ProcIdentityHandle {
  #stat = -1;
  #status = -1;

  constructor(pid: number) {
    if (!Number.isInteger(pid) || pid <= 0) throw new Error('bad pid');
    this.#stat = openSync(`/proc/${pid}/stat`, 'r');
    try {
      this.#status = openSync(`/proc/${pid}/status`, 'r');
    } catch (err) {
      closeSync(this.#stat);
      this.#stat = -1;
      throw err;
    }
  }

  read(): ProcIdentity {
    if (this.#stat < 0) throw new Error('the process files are closed');
    const startTime = statStartTimeOf(readAll(this.#stat));
    const n = readAll(this.#status);
    return { startTime, uid: effectiveIdOf(n, UID_LINE), gid: effectiveIdOf(n, GID_LINE) };
  }

  close(): void {
    if (this.#stat < 0) return;
    const stat = this.#stat;
    const status = this.#status;
    this.#stat = this.#status = -1; // never read a closed (and maybe reused) descriptor
    try {
      closeSync(stat);
    } catch {}
    try {
      closeSync(status);
    } catch {}
  }
}

/** The process as it is now (start time, effective uid/gid). */
export async function procIdentity(proc: ProcReader, pid: number): Promise<ProcIdentity> {
  const startTime = proc.startTime(pid);
  const status = await proc.status(pid);
  return { startTime, uid: status.uids[1]!, gid: status.gids[1]! };
}
