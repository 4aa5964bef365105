/**
 * Native load generators for the HTTP benchmarks (method of shared/perf):
 * wrk for closed-loop throughput, h2load --h1 --rps for a fixed request rate
 * with per-request latencies. Neither has a client-certificate option, so
 * both run with our LD_PRELOAD library (client-cert-preload.c) that gives
 * every OpenSSL context the client's certificate. A C load generator costs a
 * fraction of a Node client's CPU, so on 2 cores it leaves the servers under
 * test the CPU they need, and the figures compare servers, not clients.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = fileURLToPath(new URL('.', import.meta.url));

/** Installs a Debian package when its binary is missing (benchmarks only). */
export function ensureBinary(binary: string, debianPackage: string): string {
  for (const dir of ['/usr/bin', '/usr/sbin', '/usr/local/bin']) if (existsSync(join(dir, binary))) return join(dir, binary);
  try {
    execFileSync('apt-get', ['install', '-y', debianPackage], { stdio: 'ignore' });
  } catch {
    execFileSync('apt-get', ['update'], { stdio: 'ignore' });
    execFileSync('apt-get', ['install', '-y', debianPackage], { stdio: 'ignore' });
  }
  for (const dir of ['/usr/bin', '/usr/sbin']) if (existsSync(join(dir, binary))) return join(dir, binary);
  throw new Error(`${binary} is not installed and apt-get could not install ${debianPackage}`);
}

/** Compiles the client-certificate preload library into `dir`. */
export function buildClientCertPreload(dir: string): string {
  const out = join(dir, 'client-cert-preload.so');
  execFileSync('gcc', ['-O2', '-shared', '-fPIC', '-o', out, join(HERE, 'client-cert-preload.c'), '-ldl', '-lssl']);
  return out;
}

export interface ClientCert {
  readonly preload: string;
  readonly cert: string;
  readonly key: string;
}

function envFor(url: string, client: ClientCert | undefined): NodeJS.ProcessEnv {
  if (!url.startsWith('https:') || client === undefined) return process.env;
  return { ...process.env, LD_PRELOAD: client.preload, MW_CLIENT_CERT: client.cert, MW_CLIENT_KEY: client.key, MW_NO_RESUME: '1' };
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} exited ${code}: ${err || out}`))));
  });
}

export interface LoadResult {
  readonly requests: number;
  readonly errors: number;
  readonly rps: number;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
}

/** wrk's latency string (812.00us, 1.23ms, 1.02s) in ms. */
function wrkMs(s: string | undefined): number | null {
  const m = s === undefined ? null : /^([\d.]+)(us|ms|s|m)$/.exec(s);
  if (m === null) return null;
  const v = Number(m[1]);
  return m[2] === 'us' ? v / 1000 : m[2] === 'ms' ? v : m[2] === 's' ? v * 1000 : v * 60_000;
}

/** Closed loop: `connections` keep-alive connections sending back to back for `seconds`. */
export async function wrkClosedLoop(url: string, connections: number, threads: number, seconds: number, client?: ClientCert): Promise<LoadResult> {
  const wrk = ensureBinary('wrk', 'wrk');
  const out = await run(wrk, [`-t${threads}`, `-c${connections}`, `-d${seconds}s`, '--latency', url], envFor(url, client));
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const sockErrors = sock === null ? 0 : Number(sock[1]) + Number(sock[2]) + Number(sock[3]) + Number(sock[4]);
  return {
    requests,
    errors: non2xx + sockErrors,
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0),
    p50Ms: wrkMs(/\s50%\s+(\S+)/.exec(out)?.[1]),
    p99Ms: wrkMs(/\s99%\s+(\S+)/.exec(out)?.[1]),
  };
}

/**
 * Open loop at a fixed total rate: `connections` HTTP/1.1 keep-alive
 * connections each sending `rate / connections` requests a second, their
 * start times staggered so arrivals spread over the second. Latencies come
 * from h2load's per-request log (microseconds until the response ended).
 */
export async function h2loadFixedRate(url: string, connections: number, rate: number, seconds: number, logFile: string, client?: ClientCert): Promise<LoadResult> {
  const h2load = ensureBinary('h2load', 'nghttp2-client');
  const perConnection = rate / connections;
  if (!Number.isInteger(perConnection)) throw new RangeError('rate must be a multiple of connections');
  const total = rate * seconds;
  const args = ['--h1', `-c${connections}`, '-t1', `--rps=${perConnection}`, '-r1', `--rate-period=${Math.round(1000 / connections)}ms`, `-n${total}`, `--log-file=${logFile}`, url];
  await run(h2load, args, envFor(url, client));
  const lines = readFileSync(logFile, 'utf8').trim().split('\n');
  const latencies: number[] = [];
  let errors = 0;
  let first = Infinity;
  let last = 0;
  for (const line of lines) {
    const [start, status, us] = line.split('\t');
    if (status !== '200') {
      errors++;
      continue;
    }
    const s = Number(start);
    first = Math.min(first, s);
    last = Math.max(last, s + Number(us));
    latencies.push(Number(us) / 1000);
  }
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => (latencies.length === 0 ? null : latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))]!);
  return { requests: latencies.length, errors: errors + (total - lines.length), rps: latencies.length / ((last - first) / 1e6), p50Ms: pct(0.5), p99Ms: pct(0.99) };
}
