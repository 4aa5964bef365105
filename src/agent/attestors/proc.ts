/**
 * Reading /proc/PID (Linux): the start time of a process (field 22 of
 * /proc/PID/stat, in clock ticks since boot — with the pid it names one
 * process for the life of the machine), its uids, gids and supplementary
 * groups (/proc/PID/status), its executable (/proc/PID/exe).
 */
import { closeSync, fstatSync, openSync, readFileSync, readSync, readlinkSync } from 'node:fs';

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
const CLOSE_PAREN = 0x29;
const SPACE = 0x20;
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

/**
 * One process's identity on files opened once, for the pid-reuse check of
 * every call. An open /proc/PID file stays bound to the process it was
 * opened for: once that process has exited, reads through it fail (ESRCH)
 * even if the pid is reused — so the kept files can only ever describe the
 * process that connected. A check is then two cheap system calls instead of
 * formatting /proc/PID/stat and /proc/PID/status (~15 µs of kernel time):
 *
 * - fstat of the /proc/PID directory: its owner is the process's current
 *   effective uid and gid (what `ps` reads; unlike the files in it, the
 *   directory shows them even for non-dumpable processes), so a setuid or
 *   setgid since the connection is seen;
 * - a read of /proc/PID/oom_score_adj (a few bytes): fails once the process
 *   is gone. Without it a gone process would show uid/gid 0 and pass for a
 *   root caller.
 *
 * The start time is read once, when the files are opened: /proc/PID/stat is
 * opened first and read again after the others are open; a process still
 * there at the end held the pid throughout, so every file is bound to it.
 */
class ProcFiles implements ProcIdentityHandle {
  #dir = -1;
  #alive = -1;
  readonly #startTime: string;

  constructor(pid: number) {
    if (!Number.isInteger(pid) || pid <= 0) throw new Error('bad pid');
    const stat = openSync(`/proc/${pid}/stat`, 'r');
    try {
      this.#startTime = statStartTimeOf(readAll(stat));
      this.#dir = openSync(`/proc/${pid}`, 'r');
      this.#alive = openSync(`/proc/${pid}/oom_score_adj`, 'r');
      if (statStartTimeOf(readAll(stat)) !== this.#startTime) throw new Error('the process changed while its files were opened');
    } catch (err) {
      this.close();
      throw err;
    } finally {
      closeSync(stat);
    }
  }

  read(): ProcIdentity {
    if (this.#dir < 0) throw new Error('the process files are closed');
    const { uid, gid } = fstatSync(this.#dir);
    readAll(this.#alive); // throws once the process has exited: the ids above were a live process's
    return { startTime: this.#startTime, uid, gid };
  }

  close(): void {
    const fds = [this.#dir, this.#alive];
    this.#dir = this.#alive = -1; // never read a closed (and maybe reused) descriptor
    for (const fd of fds) {
      if (fd < 0) continue;
      try {
        closeSync(fd);
      } catch {}
    }
  }
}

/** The process as it is now (start time, effective uid/gid). */
export async function procIdentity(proc: ProcReader, pid: number): Promise<ProcIdentity> {
  const startTime = proc.startTime(pid);
  const status = await proc.status(pid);
  return { startTime, uid: status.uids[1]!, gid: status.gids[1]! };
}
