/**
 * The child processes of `meshward up` (demo apps and proxies). Each runs in
 * its own process group (detached), so stopping it also stops anything it
 * started: SIGTERM to the group, SIGKILL after a grace period. If `up`
 * itself exits (normally or by a crash), every group still alive is killed
 * synchronously from the 'exit' handler; if `up` is SIGKILLed, the children
 * notice on their own (orphan-guard.ts, and the apps' stdin closing).
 * Their stdout and stderr go to one log file each.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';

export interface ChildSpec {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  readonly uid?: number;
  readonly gid?: number;
  readonly logFile: string;
  /** Resolves `start` once a stdout line matches. */
  readonly ready: RegExp;
  readonly readyTimeoutMs?: number;
}

export interface RunningChild {
  readonly name: string;
  readonly pid: number;
  readonly process: ChildProcess;
  readonly logFile: string;
  readonly exited: Promise<number | string>;
}

export class Supervisor {
  readonly #children: RunningChild[] = [];
  #stopping = false;
  #onExit: ((child: RunningChild, code: number | string) => void) | undefined;
  readonly #killSync = (): void => this.killAllSync();

  constructor() {
    process.on('exit', this.#killSync);
  }

  get children(): readonly RunningChild[] {
    return this.#children;
  }

  /** Called when a child exits while we are not stopping. */
  onUnexpectedExit(fn: (child: RunningChild, code: number | string) => void): void {
    this.#onExit = fn;
  }

  start(spec: ChildSpec): Promise<RunningChild> {
    const log: WriteStream = createWriteStream(spec.logFile, { flags: 'a', mode: 0o640 });
    log.on('error', () => undefined);
    const child = spawn(spec.command, [...spec.args], {
      cwd: spec.cwd,
      env: spec.env as NodeJS.ProcessEnv,
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(spec.uid === undefined ? {} : { uid: spec.uid }),
      ...(spec.gid === undefined ? {} : { gid: spec.gid }),
    });
    child.stdin!.on('error', () => undefined);
    let out = '';
    let tail = '';
    child.stdout!.on('data', (d: Buffer) => {
      log.write(d);
      if (out.length < 64 * 1024) out += d.toString('utf8');
    });
    child.stderr!.on('data', (d: Buffer) => {
      log.write(d);
      tail = (tail + d.toString('utf8')).slice(-4000);
    });
    const exited = new Promise<number | string>((resolve) => {
      child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
      child.once('error', (err) => resolve(`spawn error: ${err.message}`));
    });
    void exited.then(() => log.end());
    return new Promise<RunningChild>((resolve, reject) => {
      if (child.pid === undefined) {
        void exited.then((why) => reject(new Error(`${spec.name}: cannot start ${spec.command}: ${why}`)));
        return;
      }
      const running: RunningChild = { name: spec.name, pid: child.pid, process: child, logFile: spec.logFile, exited };
      this.#children.push(running);
      let settled = false;
      const timeoutMs = spec.readyTimeoutMs ?? 30_000;
      const timer = setTimeout(() => {
        settled = true;
        reject(new Error(`${spec.name} was not ready within ${timeoutMs} ms (log: ${spec.logFile})\n${tail}`));
      }, timeoutMs);
      const check = (): void => {
        if (!settled && spec.ready.test(out)) {
          settled = true;
          clearTimeout(timer);
          resolve(running);
        }
      };
      child.stdout!.on('data', check);
      void exited.then((code) => {
        if (!settled) {
          settled = true;
          clearTimeout(timer);
          reject(new Error(`${spec.name} exited (${code}) before it was ready (log: ${spec.logFile})\n${tail.trim()}`));
        } else if (!this.#stopping) {
          this.#onExit?.(running, code);
        }
      });
    });
  }

  /** SIGTERM every child's process group (last started first), SIGKILL what is left after `graceMs`. */
  async stopAll(graceMs = 5000): Promise<void> {
    this.#stopping = true;
    const list = [...this.#children].reverse();
    for (const c of list) signalGroup(c, 'SIGTERM');
    await Promise.all(
      list.map(async (c) => {
        let timer: NodeJS.Timeout | undefined;
        const killed = new Promise<void>((resolve) => {
          timer = setTimeout(() => {
            signalGroup(c, 'SIGKILL');
            resolve();
          }, graceMs);
        });
        await Promise.race([c.exited.then(() => undefined), killed]);
        clearTimeout(timer);
        // Anything the child left in its group goes too.
        signalGroup(c, 'SIGKILL');
      }),
    );
    process.off('exit', this.#killSync);
  }

  /** From the 'exit' handler (and crashes): SIGKILL every group, synchronously. */
  killAllSync(): void {
    this.#stopping = true;
    for (const c of this.#children) signalGroup(c, 'SIGKILL');
  }
}

function signalGroup(c: RunningChild, signal: NodeJS.Signals): void {
  try {
    process.kill(-c.pid, signal);
  } catch {
    try {
      if (c.process.exitCode === null && c.process.signalCode === null) c.process.kill(signal);
    } catch {
      // already gone
    }
  }
}
