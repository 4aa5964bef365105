/** Real processes and real TLS for the proxy tests: a test PKI on disk, the app, the proxy CLI, an mTLS client. */
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initCaDirectory, type CertificateAuthority } from '../../src/ca/index.js';
import { encodePem } from '../../src/spiffe/pem.js';
import { parseProxyConfig } from '../../src/proxy/config.js';

const HERE = new URL('.', import.meta.url).pathname;
const ROOT = join(HERE, '..', '..');

export interface SvidFiles {
  readonly id: string;
  readonly cert: string;
  readonly key: string;
  readonly bundle: string;
  readonly certPem: string;
  readonly keyPem: string;
  readonly bundlePem: string;
  readonly serial: string;
}

export class TestPki {
  readonly dir: string;
  readonly ca: CertificateAuthority;
  readonly trustDomain: string;

  constructor(trustDomain = 'example.org') {
    this.dir = mkdtempSync(join(tmpdir(), 'mw-proxy-'));
    this.trustDomain = trustDomain;
    this.ca = initCaDirectory({ dir: join(this.dir, 'ca'), trustDomain });
  }

  bundlePem(): string {
    return this.ca.bundle().toPem();
  }

  svid(path: string, ttlSeconds = 3600): SvidFiles {
    const id = `spiffe://${this.trustDomain}${path}`;
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const minted = this.ca.mintX509Svid({ spiffeId: id, publicKey, ttlSeconds });
    const certPem = minted.chain.map((d: Buffer) => encodePem('CERTIFICATE', d)).join('');
    const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const name = path.replace(/[^a-z0-9]+/gi, '_');
    const cert = join(this.dir, `${name}.crt`);
    const key = join(this.dir, `${name}.key`);
    const bundle = join(this.dir, 'bundle.pem');
    const bundlePem = this.bundlePem();
    writeFileSync(cert, certPem);
    writeFileSync(key, keyPem, { mode: 0o600 });
    writeFileSync(bundle, bundlePem);
    const serial = new X509Certificate(minted.chain[0]!).serialNumber.toLowerCase();
    return { id, cert, key, bundle, certPem, keyPem, bundlePem, serial };
  }

  /** A JWT-SVID for `spiffe://<td><path>`, signed by this CA's active JWT key. */
  jwt(path: string, audience: string | string[], options: { ttlSeconds?: number; now?: Date } = {}): string {
    return this.ca.mintJwtSvid({ spiffeId: `spiffe://${this.trustDomain}${path}`, audience, ...options });
  }

  /** The CA's bundle as a SPIFFE bundle document (what `meshward bundle show --format spiffe` prints), written to a file. */
  jwtBundleFile(): string {
    const file = join(this.dir, `bundle-${this.trustDomain}.json`);
    writeFileSync(file, JSON.stringify(this.ca.bundle().toJSON()));
    return file;
  }
}


export interface Proc {
  readonly child: ChildProcess;
  readonly stdout: () => string;
  readonly stderr: () => string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

function track(child: ChildProcess): Proc {
  let out = '';
  let err = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (err += c.toString()));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    kill: (signal = 'SIGTERM') =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill(signal);
        setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
      }),
  };
}

async function waitFor(proc: Proc, re: RegExp, timeoutMs = 20_000): Promise<RegExpExecArray> {
  const start = Date.now();
  for (;;) {
    const m = re.exec(proc.stdout());
    if (m) return m;
    if (proc.child.exitCode !== null) throw new Error(`process exited ${proc.child.exitCode}: ${proc.stderr()}${proc.stdout()}`);
    if (Date.now() - start > timeoutMs) throw new Error(`timeout waiting for ${re}: ${proc.stderr()}${proc.stdout()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export async function startApp(): Promise<Proc & { port: number }> {
  const proc = track(spawn(process.execPath, [join(HERE, 'fixtures', 'app.mjs')], { stdio: ['ignore', 'pipe', 'pipe'] }));
  const m = await waitFor(proc, /app listening (\d+)/);
  return Object.assign(proc, { port: Number(m[1]) });
}

export interface ProxyProc extends Proc {
  readonly inboundPort: number;
  readonly outboundPorts: number[];
  readonly metricsPort: number | undefined;
}

/** Starts `meshward proxy run ARGS` (through the CLI module) and waits for its ready line. */
export async function startProxyProcess(args: string[], env: NodeJS.ProcessEnv = {}): Promise<ProxyProc> {
  const proc = track(
    spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'bin.ts'), 'proxy', 'run', ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, SPIFFE_ENDPOINT_SOCKET: '', ...env },
    }),
  );
  await waitFor(proc, /meshward proxy running[^\n]*\n(  [^\n]*\n)*/);
  await new Promise((r) => setTimeout(r, 50));
  const out = proc.stdout();
  const inbound = /inbound [^:]+:(\d+)/.exec(out);
  const outs = [...out.matchAll(/outbound [^:]+:(\d+)/g)].map((m) => Number(m[1]));
  const metrics = /metrics http:\/\/[^:]+:(\d+)/.exec(out);
  return Object.assign(proc, { inboundPort: inbound ? Number(inbound[1]) : 0, outboundPorts: outs, metricsPort: metrics ? Number(metrics[1]) : undefined });
}

/** Runs the proxy CLI to completion (for exit-code tests). */
export function runProxyCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = track(spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'bin.ts'), 'proxy', 'run', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SPIFFE_ENDPOINT_SOCKET: '' } }));
  return new Promise((resolve) => proc.child.on('exit', (code) => resolve({ code, stdout: proc.stdout(), stderr: proc.stderr() })));
}

export function identityArgs(s: SvidFiles): string[] {
  return ['--svid-cert', s.cert, '--svid-key', s.key, '--svid-bundle', s.bundle];
}

export interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

export interface CallOptions {
  method?: string;
  path?: string;
  headers?: Record<string, string | string[]>;
  body?: string;
  client?: SvidFiles | null;
  /** Use a raw header list (duplicates) instead of `headers`. */
  rawHeaders?: string[];
}

/** One mTLS request to the proxy's inbound port (new connection each time, no session reuse). */
export function callMtls(port: number, pki: { bundlePem(): string }, options: CallOptions = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port,
        method: options.method ?? 'GET',
        path: options.path ?? '/',
        headers: (options.rawHeaders as unknown as Record<string, string>) ?? options.headers ?? {},
        agent: false,
        ...(options.client ? { cert: options.client.certPem, key: options.client.keyPem } : {}),
        ca: pki.bundlePem(),
        checkServerIdentity: () => undefined,
        minVersion: 'TLSv1.3',
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

export function callPlain(port: number, options: CallOptions = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method: options.method ?? 'GET', path: options.path ?? '/', headers: options.headers ?? {}, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

export interface Seen {
  method: string;
  url: string;
  headers: Record<string, string | string[]>;
  rawHeaders: string[];
  body: string;
}

export async function seenByApp(appPort: number): Promise<Seen[]> {
  const r = await callPlain(appPort, { path: '/__seen' });
  return JSON.parse(r.body) as Seen[];
}

export function writePolicy(dir: string, name: string, yaml: string): string {
  const file = join(dir, name);
  writeFileSync(file, yaml);
  return file;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The config key a proxy configuration error names, or undefined when `doc` is valid. */
export function configErrorKey(doc: unknown): string | undefined {
  try {
    parseProxyConfig(doc, {});
  } catch (err) {
    return (err as { key?: string }).key;
  }
  return undefined;
}
