/**
 * Drives several fetch-lean.ts processes as one load generator for
 * bench/agent.bench.ts: CLIENTS clients spread over PROCESSES processes, each
 * client on its own connection. A command goes to every process at once and
 * the answers are merged. `pin(cpus)` moves every thread of every load
 * process (and, through pinProcess, the agent) onto a CPU list with taskset,
 * so the load and the agent can be kept off each other's core.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { jsonLines } from './json-lines.js';
import { fileURLToPath } from 'node:url';

const WORKER = fileURLToPath(new URL('./fetch-lean.ts', import.meta.url));

export interface LeanAnswer {
  /** ms from sending to the complete first message, sorted. */
  readonly lat: number[];
  /** paced: ms each send was late against its schedule, sorted. */
  readonly lag: number[];
  readonly errors: number;
  /** CPU of all load processes together. */
  readonly cpuMs: number;
  /** Worst event-loop delay of any load process. */
  readonly loopMaxMs: number;
  readonly loopP99Ms: number;
  readonly wallMs: number;
}

/** Moves every thread of `pid` onto `cpus` (taskset syntax: "0", "1", "0-1"). */
export function pinProcess(pid: number, cpus: string): void {
  execFileSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
}

interface Worker {
  readonly child: ChildProcess;
  next(): Promise<string>;
}

function startWorker(socketPath: string, clients: number): Worker {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER, socketPath, String(clients)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const next = jsonLines(child, 'a load process');
  return { child, next };
}

export class LeanLoad {
  readonly #workers: Worker[];
  readonly clients: number;

  constructor(socketPath: string, clients: number, processes: number) {
    this.clients = clients;
    const n = Math.max(1, Math.min(processes, clients));
    this.#workers = Array.from({ length: n }, (_, i) => startWorker(socketPath, Math.floor(clients / n) + (i < clients % n ? 1 : 0)));
  }

  get pids(): number[] {
    return this.#workers.map((w) => w.child.pid!);
  }

  pin(cpus: string): void {
    for (const pid of this.pids) pinProcess(pid, cpus);
  }

  /** Sends `command` to every load process; the merged answer. Throws when a process reports an error. */
  async run(command: string): Promise<LeanAnswer> {
    const t0 = performance.now();
    for (const w of this.#workers) w.child.stdin!.write(command + '\n');
    const answers = (await Promise.all(this.#workers.map(async (w) => JSON.parse(await w.next())))) as Array<Omit<LeanAnswer, 'wallMs'> & { error?: string }>;
    const wallMs = performance.now() - t0;
    const failed = answers.find((a) => a.error !== undefined);
    if (failed) throw new Error(`lean load: ${failed.error}`);
    const byNumber = (a: number, b: number): number => a - b;
    return {
      lat: answers.flatMap((a) => a.lat).sort(byNumber),
      lag: answers.flatMap((a) => a.lag).sort(byNumber),
      errors: answers.reduce((s, a) => s + a.errors, 0),
      cpuMs: answers.reduce((s, a) => s + a.cpuMs, 0),
      loopMaxMs: Math.max(...answers.map((a) => a.loopMaxMs)),
      loopP99Ms: Math.max(...answers.map((a) => a.loopP99Ms)),
      wallMs,
    };
  }

  async close(): Promise<void> {
    await Promise.all(
      this.#workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.child.exitCode !== null) return resolve();
            w.child.once('exit', () => resolve());
            w.child.stdin!.write('exit\n');
            setTimeout(() => w.child.kill('SIGKILL'), 5000).unref();
          }),
      ),
    );
  }
}

const TICK_MS = 10; // USER_HZ: /proc/PID/stat counts CPU time in 1/100 s
/** CPU time (user + system, all threads) of a process so far, from /proc. */
export function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * TICK_MS; // utime, stime (fields 14, 15)
}

/** Busy CPU time of the whole machine so far (every process, every core), from /proc/stat. */
export function machineBusyMs(): number {
  const cpu = readFileSync('/proc/stat', 'latin1').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = cpu as [number, number, number, number, number, number, number, number];
  return (user + nice + system + irq + softirq + steal) * TICK_MS;
}
