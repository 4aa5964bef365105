/** The agent as a real child process (`meshward agent run`), and helpers shared by the agent tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../../src/cli/bin.ts', import.meta.url));
export const TSX = import.meta.resolve('tsx');

/** The real `meshward` entry point. */
export function agentEntry(): string {
  return BIN;
}

export interface Hooks {
  after(fn: () => unknown): void;
}

/** A temp dir reachable by every uid (0755), removed after the test. */
export function sharedTempDir(t: Hooks, prefix = 'mw-ag-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o755);
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface AgentProcess {
  readonly child: ChildProcess;
  readonly spiffeId: string;
  readonly socketPath: string;
  readonly health: string | undefined;
  readonly metrics: string | undefined;
  stdout(): string;
  stderr(): string;
  exited: Promise<number | string>;
  kill(signal?: NodeJS.Signals): Promise<number | string>;
}

export function runAgentArgs(args: string[]): string[] {
  return ['--import', TSX, agentEntry(), 'agent', 'run', ...args];
}

export function startAgentProcess(t: Hooks, args: string[], env: Record<string, string> = {}, timeoutMs = 30_000): Promise<AgentProcess> {
  const child = spawn(process.execPath, runAgentArgs(args), { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  const kill = (signal: NodeJS.Signals = 'SIGTERM'): Promise<number | string> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    return exited;
  };
  t.after(() => kill('SIGKILL'));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`agent did not start in ${timeoutMs} ms\nstdout: ${out}\nstderr: ${err}`)), timeoutMs);
    const check = (): void => {
      const id = /meshward agent running: (\S+)/.exec(out)?.[1];
      const sock = /Workload API\s+unix:\/\/(\S+)/.exec(out)?.[1];
      if (id && sock) {
        clearTimeout(timer);
        resolve({
          child,
          spiffeId: id,
          socketPath: sock,
          health: /health\s+(http:\/\/[^\s/]+)/.exec(out)?.[1],
          metrics: /metrics\s+(http:\/\/[^\s/]+)/.exec(out)?.[1],
          stdout: () => out,
          stderr: () => err,
          exited,
          kill,
        });
      }
    };
    child.stdout!.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`agent exited (${code}) before serving\nstdout: ${out}\nstderr: ${err}`));
    });
  });
}

export function writeFile(dir: string, name: string, content: string | Buffer, mode = 0o644): string {
  const p = join(dir, name);
  writeFileSync(p, content, { mode });
  return p;
}
