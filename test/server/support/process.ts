/** `meshward server run` as a real child process: start, wait for its listening lines, kill. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../../src/cli/bin.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');

/** The real `meshward` entry point. */
export function serverEntry(): string {
  return BIN;
}

export interface ServerProcess {
  readonly child: ChildProcess;
  readonly api: string;
  readonly health: string;
  readonly adminSocket: string;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or signal). */
  exited: Promise<number | string>;
  kill(signal?: NodeJS.Signals): Promise<number | string>;
}

export function runServerSync(args: string[], env: Record<string, string> = {}, cwd?: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', TSX, serverEntry(), 'server', 'run', ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env }, ...(cwd === undefined ? {} : { cwd }) });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function startServerProcess(args: string[], env: Record<string, string> = {}, timeoutMs = 30_000): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', TSX, serverEntry(), 'server', 'run', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in ${timeoutMs} ms\nstdout: ${out}\nstderr: ${err}`)), timeoutMs);
    const check = (): void => {
      const api = /server API\s+(https:\/\/\S+)/.exec(out)?.[1];
      const health = /health\s+(http:\/\/[^\s/]+(?::\d+)?)/.exec(out)?.[1];
      const sock = /admin socket (\S+)/.exec(out)?.[1];
      if (api && health && sock) {
        clearTimeout(timer);
        child.stdout!.off('data', check);
        resolve({
          child,
          api,
          health,
          adminSocket: sock,
          stdout: () => out,
          stderr: () => err,
          exited,
          kill: (signal = 'SIGTERM') => {
            if (child.exitCode === null && child.signalCode === null) child.kill(signal);
            return exited;
          },
        });
      }
    };
    child.stdout!.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}) before listening\nstdout: ${out}\nstderr: ${err}`));
    });
  });
}
