/**
 * Reading /proc/PID (Linux): the start time of a process (field 22 of
 * /proc/PID/stat, in clock ticks since boot — with the pid it names one
 * process for the life of the machine), its uids, gids and supplementary
 * groups (/proc/PID/status), its executable (/proc/PID/exe).
 */
import { readFileSync, readlinkSync } from 'node:fs';

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
};

/** The process as it is now (start time, effective uid/gid). */
export async function procIdentity(proc: ProcReader, pid: number): Promise<ProcIdentity> {
  const startTime = proc.startTime(pid);
  const status = await proc.status(pid);
  return { startTime, uid: status.uids[1]!, gid: status.gids[1]! };
}
