/**
 * `meshward up [--data-dir .meshward] [--trust-domain example.org]`: the demo
 * mesh that `npm start` runs (docs/demo.md). In this process: the server
 * (embedded SQLite under the data dir) and one agent (first start: a join
 * token created in-process; later starts: the agent's stored SVID). As child
 * processes: four tiny plain-HTTP apps (examples/mesh/app.mjs) — `auth`,
 * `order`, `payment`, `compromised` — each behind its own `meshward proxy
 * run`. Payment's proxy enforces examples/mesh/payment-policy.yaml ("POST
 * /payment/* only from auth and order") and audits to a hash-chained file.
 *
 * The agent tells the four proxies apart by the kernel's peer credentials:
 * as root each proxy runs under its own uid/gid (61001–61004; the apps under
 * 61100, with no identity); otherwise each proxy runs from its own hardlink
 * (or copy) of the node binary and is selected by `unix:path`.
 *
 * Prints `meshward mesh ready`, then the commands for an allowed and a denied
 * call and the audit check; runs until SIGINT/SIGTERM, then stops every child
 * (process groups) and closes the agent and the server.
 */
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, copyFileSync, existsSync, linkSync, lstatSync, mkdirSync, readdirSync, readFileSync, realpathSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Command } from 'commander';
import pino from 'pino';
import { Client, request } from 'undici';
import { startAgent, type RunningAgent } from '../agent/agent.js';
import { AgentError } from '../agent/agent-error.js';
import { loadAgentConfig } from '../agent/config.js';
import { AGENT_SVID_FILE } from '../agent/data-dir.js';
import { createLocalJoinToken } from '../server/admin/join-tokens.js';
import { datastoreLabel, loadServerConfig } from '../server/config.js';
import { startServer, type RunningServer } from '../server/server.js';
import { TrustDomain } from '../spiffe/trust-domain.js';
import { Supervisor, type RunningChild } from './up/children.js';
import { PortPicker } from './up/ports.js';
import { CheckFailedError, UsageError } from './usage-error.js';

export const SERVICES = ['auth', 'order', 'payment', 'compromised'] as const;
export type ServiceName = (typeof SERVICES)[number];
/** Services whose proxy has an outbound listener to payment. */
const CALLERS: readonly ServiceName[] = ['auth', 'order', 'compromised'];
export const NAMESPACE = 'demo';
/** Proxies run as UID_BASE + index (as root); the apps as APP_UID. */
export const UID_BASE = 61001;
export const APP_UID = 61100;
/** Preferred ports (a busy one is replaced by a free one, and printed). */
const PORTS = { api: 8081, health: 8082, app: 18100, inbound: 15100, outbound: 15200, metrics: 15300 };
/** Unix socket paths must be shorter than this many bytes (sun_path). */
const MAX_SOCKET_PATH = 100;

const HERE = fileURLToPath(import.meta.url);
/** `.ts` under tsx (src/), `.js` after the build (dist/). */
const EXT = extname(HERE);
const BIN = join(dirname(HERE), `bin${EXT}`);
const ORPHAN_GUARD = join(dirname(HERE), 'up', `orphan-guard${EXT}`);
/** examples/mesh is two levels above both src/cli and dist/cli. */
const EXAMPLES = resolve(dirname(HERE), '..', '..', 'examples', 'mesh');

export type Isolation = 'uid' | 'path';

export interface UpOptions {
  readonly dataDir: string;
  readonly trustDomain: string;
  readonly isolation?: Isolation;
}

export function registerUpCommand(program: Command): void {
  program
    .command('up')
    .description('run the demo mesh: server, agent, and auth/order/payment/compromised apps each behind a proxy (until SIGINT/SIGTERM)')
    .option('--data-dir <dir>', 'data directory (server, agent, audit files, logs)', '.meshward')
    .option('--trust-domain <td>', 'trust domain of a new mesh', 'example.org')
    .option('--isolation <how>', 'how the agent tells the proxies apart: uid (root only) or path (hardlinked node binaries); default: uid as root, else path')
    .action(async (opts: { dataDir: string; trustDomain: string; isolation?: string }) => {
      if (opts.isolation !== undefined && opts.isolation !== 'uid' && opts.isolation !== 'path') throw new UsageError(`--isolation must be uid or path, not ${JSON.stringify(opts.isolation)}`);
      await runUp({ dataDir: opts.dataDir, trustDomain: opts.trustDomain, ...(opts.isolation === undefined ? {} : { isolation: opts.isolation as Isolation }) });
    });
}

interface ServicePlan {
  readonly name: ServiceName;
  readonly index: number;
  readonly spiffeId: string;
  readonly dir: string;
  readonly auditFile: string;
  readonly appPort: number;
  readonly inboundPort: number;
  readonly outboundPort: number | undefined;
  readonly metricsPort: number;
  /** uid mode: the proxy's uid/gid; path mode: undefined. */
  readonly uid: number | undefined;
  /** The executable the proxy runs from (path mode: its own link of node). */
  readonly exe: string;
  readonly selectors: ReadonlyArray<{ type: string; value: string }>;
}

export async function runUp(options: UpOptions): Promise<void> {
  const say = (line = ''): void => void process.stdout.write(`${line}\n`);
  let td: string;
  try {
    td = TrustDomain.parse(options.trustDomain).name;
  } catch (err) {
    throw new UsageError(`--trust-domain: ${(err as Error).message}`);
  }
  const root = process.getuid?.() === 0;
  const isolation: Isolation = options.isolation ?? (root ? 'uid' : 'path');
  if (isolation === 'uid' && !root) throw new UsageError('--isolation uid needs root (to run each proxy under its own uid); use --isolation path');

  const dataDir = resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o755 });
  if (isolation === 'uid') {
    // The proxies (other uids) must reach their directories and the Workload API socket.
    const mode = statSync(dataDir).mode & 0o777;
    if ((mode & 0o001) === 0) chmodSync(dataDir, mode | 0o011);
    assertReachableByOthers(dirname(dataDir), 'the data directory\'s parent');
  }
  const shortDir = `/tmp/meshward-${createHash('sha256').update(dataDir).digest('hex').slice(0, 12)}`;
  const socketPath = shortEnough(join(dataDir, 'sockets', 'agent.sock')) ?? join(ensureShortDir(shortDir), 'agent.sock');
  const adminSocket = shortEnough(join(dataDir, 'server', 'admin.sock')) ?? join(ensureShortDir(shortDir), 'admin.sock');
  const meshDir = join(dataDir, 'mesh');
  const logDir = join(dataDir, 'logs');
  mkdirSync(meshDir, { recursive: true, mode: 0o755 });
  chmodSync(meshDir, 0o755);
  mkdirSync(logDir, { recursive: true, mode: 0o700 });

  const supervisor = new Supervisor();
  let server: RunningServer | undefined;
  let agent: RunningAgent | undefined;
  const cleanup = async (): Promise<void> => {
    await supervisor.stopAll().catch(() => undefined);
    if (agent !== undefined) await agent.close().catch(() => undefined);
    if (server !== undefined) await server.close().catch(() => undefined);
  };
  // A stop request during start-up is honoured once the current step ends.
  let stopRequested = false;
  let wake: (() => void) | undefined;
  const onSignal = (): void => {
    stopRequested = true;
    wake?.();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const checkStop = (): void => {
    if (stopRequested) throw new StopRequested();
  };

  try {
    // 1. The server.
    const ports = new PortPicker();
    const apiPort = await ports.pick(PORTS.api);
    const healthPort = await ports.pick(PORTS.health);
    const serverConfig = loadServerConfig({
      flags: {
        trust_domain: td,
        data_dir: join(dataDir, 'server'),
        bind: `127.0.0.1:${apiPort}`,
        health_bind: `127.0.0.1:${healthPort}`,
        admin_socket: adminSocket,
        log_level: process.env.MESHWARD_UP_LOG_LEVEL ?? 'warn',
      },
    });
    try {
      server = await startServer(serverConfig);
    } catch (err) {
      throw new CheckFailedError(`up: the server cannot start: ${(err as Error).message}`);
    }
    const serverTd = server.ctx.trustDomain.name;
    if (serverTd !== td) throw new UsageError(`up: the data directory ${dataDir} holds a mesh of trust domain ${serverTd}, not ${td}; use --trust-domain ${serverTd} or another --data-dir`);
    say(`meshward up: server running (trust domain ${td}, datastore ${datastoreLabel(serverConfig.datastore)})`);
    say(`  server API   ${server.urls.api}${apiPort === PORTS.api ? '' : `  (${PORTS.api} was taken)`}`);
    say(`  health       ${server.urls.health}/ready${healthPort === PORTS.health ? '' : `  (${PORTS.health} was taken)`}`);
    say(`  admin socket ${server.adminSocket}`);
    checkStop();

    // 2. The agent.
    const agentDir = join(dataDir, 'agent');
    const bundleFile = join(dataDir, 'server-bundle.pem');
    writeFileSync(bundleFile, server.ctx.ca.bundle().toPem(), { mode: 0o644 });
    const hadSvid = existsSync(join(agentDir, AGENT_SVID_FILE));
    const agentLogger = pino({ level: process.env.MESHWARD_UP_LOG_LEVEL ?? 'warn', base: { component: 'agent' } }, pino.destination({ fd: 2, sync: false }));
    const agentAt = async (joinToken: string | undefined): Promise<RunningAgent> =>
      startAgent(
        loadAgentConfig({
          env: {},
          flags: {
            server_urls: server!.urls.api,
            ...(joinToken === undefined ? {} : { join_token: joinToken }),
            trust_bundle_path: bundleFile,
            trust_domain: td,
            socket_path: socketPath,
            data_dir: agentDir,
            health_bind: 'off',
            metrics_bind: 'off',
            sync_interval: '2s',
          },
        }),
        { logger: agentLogger, startTimeoutMs: 30_000 },
      );
    let how: string;
    if (hadSvid) {
      try {
        agent = await agentAt(undefined);
        how = 'reused its stored SVID, no join token needed';
      } catch (err) {
        if (!(err instanceof AgentError) || err.code !== 'ERR_AGENT_NOT_ATTESTED') throw err;
        agent = await agentAt(await createJoinToken(server));
        how = `attested with a new join token (the stored SVID was refused: ${err.message})`;
      }
    } else {
      agent = await agentAt(await createJoinToken(server));
      how = 'attested with a join token created in-process';
    }
    const agentId = agent.identity.svid!.id.toString();
    say(`meshward up: agent ${agentId} ${how}`);
    say(`  Workload API unix://${agent.socketPath}`);
    say(`  export SPIFFE_ENDPOINT_SOCKET=unix://${agent.socketPath}`);
    checkStop();

    // 3. The plan: ports, directories, executables, selectors.
    const myUid = process.getuid?.() ?? 0;
    const plans: ServicePlan[] = [];
    for (const [index, name] of SERVICES.entries()) {
      const dir = join(meshDir, name);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      let uid: number | undefined;
      let exe = process.execPath;
      let selectors: Array<{ type: string; value: string }>;
      if (isolation === 'uid') {
        uid = UID_BASE + index;
        chownTree(dir, uid, uid);
        selectors = [{ type: 'unix', value: `uid:${uid}` }, { type: 'unix', value: `gid:${uid}` }];
      } else {
        exe = linkNode(join(dir, 'node'));
        selectors = [{ type: 'unix', value: `uid:${myUid}` }, { type: 'unix', value: `path:${exe}` }];
      }
      plans.push({
        name,
        index,
        spiffeId: `spiffe://${td}/ns/${NAMESPACE}/sa/${name}`,
        dir,
        auditFile: join(dir, 'audit.jsonl'),
        appPort: await ports.pick(PORTS.app + index),
        inboundPort: await ports.pick(PORTS.inbound + index),
        outboundPort: CALLERS.includes(name) ? await ports.pick(PORTS.outbound + index) : undefined,
        metricsPort: await ports.pick(PORTS.metrics + index),
        uid,
        exe,
        selectors,
      });
    }
    const plan = (name: ServiceName): ServicePlan => plans.find((p) => p.name === name)!;
    const policyFile = join(meshDir, 'payment-policy.yaml');
    const policyText = readFileSync(join(EXAMPLES, 'payment-policy.yaml'), 'utf8').replaceAll('example.org/', `${td}/`);
    writeFileSync(policyFile, policyText, { mode: 0o644 });
    chmodSync(policyFile, 0o644);
    const appFile = join(EXAMPLES, 'app.mjs');
    if (isolation === 'uid') {
      for (const file of [process.execPath, BIN, ORPHAN_GUARD, appFile, policyFile, socketPath]) assertReachableByOthers(file, 'a file the proxies and apps need');
    }

    // 4. Registration entries (a restart finds them: ALREADY_EXISTS is fine).
    await registerEntries(server.adminSocket, plans.map((p) => ({ spiffeId: p.spiffeId, parentId: agentId, selectors: p.selectors })));
    say(`meshward up: entries for ${SERVICES.join(', ')} (spiffe://${td}/ns/${NAMESPACE}/sa/<name>), told apart by ${isolation === 'uid' ? `uid/gid ${UID_BASE}-${UID_BASE + SERVICES.length - 1}` : 'unix:path (one hardlink or copy of node per proxy)'}`);
    await waitForSvids(agent, plans.map((p) => p.spiffeId), 30_000);
    checkStop();

    // 5. The apps, then their proxies.
    const execArgv = resolveExecArgv(process.execArgv);
    const started: Array<{ label: string; child: RunningChild }> = [];
    for (const p of plans) {
      const child = await supervisor.start({
        name: `${p.name} app`,
        command: process.execPath,
        args: [appFile],
        cwd: meshDir,
        env: {
          PATH: process.env.PATH,
          HOME: meshDir,
          NAME: p.name,
          PORT: String(p.appPort),
          ...(p.outboundPort === undefined ? {} : { PAYMENT_URL: `http://127.0.0.1:${p.outboundPort}` }),
        },
        ...(isolation === 'uid' ? { uid: APP_UID, gid: APP_UID } : {}),
        logFile: join(logDir, `${p.name}-app.log`),
        ready: /app listening on/,
        readyTimeoutMs: 15_000,
      });
      started.push({ label: `${p.name}-app`, child });
      checkStop();
    }
    const payment = plan('payment');
    for (const p of plans) {
      const args = [
        ...execArgv,
        '--import',
        pathToFileURL(ORPHAN_GUARD).href,
        BIN,
        'proxy',
        'run',
        '--inbound',
        `127.0.0.1:${p.inboundPort}`,
        '--app',
        `127.0.0.1:${p.appPort}`,
        '--namespace',
        NAMESPACE,
        '--label',
        `app=${p.name}`,
        '--audit-file',
        p.auditFile,
        '--metrics-bind',
        `127.0.0.1:${p.metricsPort}`,
        '--socket',
        `unix://${agent.socketPath}`,
      ];
      if (p.name === 'payment') args.push('--policy', policyFile);
      if (p.outboundPort !== undefined) args.push('--outbound', `127.0.0.1:${p.outboundPort}=127.0.0.1:${payment.inboundPort}=${payment.spiffeId}`);
      const child = await supervisor.start({
        name: `${p.name} proxy`,
        command: p.exe,
        args,
        cwd: p.dir,
        env: { ...process.env, HOME: p.dir, SPIFFE_ENDPOINT_SOCKET: `unix://${agent.socketPath}` },
        ...(p.uid === undefined ? {} : { uid: p.uid, gid: p.uid }),
        logFile: join(logDir, `${p.name}-proxy.log`),
        ready: /meshward proxy running as/,
        readyTimeoutMs: 45_000,
      });
      started.push({ label: `${p.name}-proxy`, child });
      checkStop();
    }
    say(`meshward up: children ${started.map((s) => `${s.label}=${s.child.pid}`).join(' ')}`);
    for (const p of plans) {
      say(`  ${p.name.padEnd(11)} app 127.0.0.1:${p.appPort}  proxy inbound 127.0.0.1:${p.inboundPort}${p.outboundPort === undefined ? '' : `  outbound→payment 127.0.0.1:${p.outboundPort}`}  metrics 127.0.0.1:${p.metricsPort}`);
    }
    say(`  logs in ${logDir}`);

    // 6. One real allowed call end to end before saying "ready".
    const order = plan('order');
    await probe(`http://127.0.0.1:${order.outboundPort}/payment/ready-check`, 30_000, () => stopRequested);
    checkStop();

    const body = `-H 'content-type: application/json' -d '{"amount":42}'`;
    say('');
    say('meshward mesh ready');
    say(`  allowed (order -> payment, 200):       curl -s -X POST http://127.0.0.1:${order.outboundPort}/payment/charge ${body}`);
    say(`  denied  (compromised -> payment, 403): curl -s -X POST http://127.0.0.1:${plan('compromised').outboundPort}/payment/charge ${body}`);
    say(`  audit trail of payment:                meshward audit verify ${payment.auditFile}`);
    say(`  (from a checkout: node ${BIN.endsWith('.ts') ? `--import tsx ${BIN}` : BIN} audit verify ${payment.auditFile})`);
    say('  stop with Ctrl-C (SIGINT) or SIGTERM');

    // Run until a signal or a child dies.
    await new Promise<void>((resolveWait) => {
      wake = resolveWait;
      if (stopRequested) resolveWait();
      supervisor.onUnexpectedExit((child, code) => {
        process.stderr.write(`meshward up: ${child.name} (pid ${child.pid}) exited unexpectedly (${code}); see ${child.logFile}. Stopping the mesh.\n`);
        process.exitCode = 1;
        resolveWait();
      });
    });
    say('meshward up: stopping');
  } catch (err) {
    if (!(err instanceof StopRequested)) {
      await cleanup();
      throw err;
    }
    say('meshward up: stopping');
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  await cleanup();
  say('meshward up: stopped');
  // Whatever library handle might linger, do not outstay the stop.
  setTimeout(() => process.exit(), 3000).unref();
}

class StopRequested extends Error {}

/** A one-time join token (10 minutes), created as `POST /v1/join-tokens` does: only its hash is stored. */
async function createJoinToken(running: RunningServer): Promise<string> {
  return (await createLocalJoinToken(running.ctx, 600, 'meshward up')).token;
}

async function registerEntries(adminSocket: string, entries: ReadonlyArray<{ spiffeId: string; parentId: string; selectors: ReadonlyArray<{ type: string; value: string }> }>): Promise<void> {
  const client = new Client('http://localhost', { socketPath: adminSocket });
  try {
    const res = await client.request({ method: 'POST', path: '/v1/entries', body: JSON.stringify({ entries }), headers: { 'content-type': 'application/json' } });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new CheckFailedError(`up: creating the entries failed (${res.statusCode}): ${text}`);
    const { results } = JSON.parse(text) as { results: Array<{ status: string; error?: { code: string; message: string } }> };
    for (const [i, r] of results.entries()) {
      if (r.status === 'ok' || r.error?.code === 'ERR_STORE_ALREADY_EXISTS') continue;
      throw new CheckFailedError(`up: creating the entry for ${entries[i]!.spiffeId} failed: ${r.error?.code}: ${r.error?.message}`);
    }
  } finally {
    await client.close();
  }
}

/** Until the agent holds an X.509-SVID for every ID (so the proxies get one at their first fetch). */
async function waitForSvids(agent: RunningAgent, ids: readonly string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const missing = (): string[] => ids.filter((id) => ![...agent.cache.entries()].some((e) => e.spiffeId === id && agent.cache.svid(e.id) !== undefined));
  while (missing().length > 0) {
    if (Date.now() > deadline) throw new CheckFailedError(`up: the agent has no SVID for ${missing().join(', ')} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function probe(url: string, timeoutMs: number, stopped: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (!stopped()) {
    try {
      const res = await request(url, { method: 'POST', body: '{"amount":0}', headers: { 'content-type': 'application/json' }, headersTimeout: 5000, bodyTimeout: 5000 });
      const text = await res.body.text();
      if (res.statusCode === 200) return;
      last = `${res.statusCode} ${text.trim().slice(0, 200)}`;
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > deadline) throw new CheckFailedError(`up: the allowed call through ${url} does not succeed: ${last}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function shortEnough(path: string): string | undefined {
  return Buffer.byteLength(path) < MAX_SOCKET_PATH ? path : undefined;
}

/** /tmp/meshward-<hash>, ours (not a symlink, owned by us), 0755. */
function ensureShortDir(dir: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const st = lstatSync(dir);
  if (!st.isDirectory() || st.uid !== (process.getuid?.() ?? st.uid)) throw new CheckFailedError(`up: ${dir} exists and is not a directory of ours`);
  chmodSync(dir, 0o755);
  return dir;
}

/** Path mode: a hardlink of the node binary (a copy when linking is refused), kept across restarts. */
function linkNode(dest: string): string {
  const source = realpathSync(process.execPath);
  const src = statSync(source);
  if (existsSync(dest)) {
    const st = statSync(dest);
    if (st.ino === src.ino && st.dev === src.dev) return dest;
    if (st.size === src.size && st.mtimeMs >= src.mtimeMs) return dest;
    unlinkSync(dest);
  }
  try {
    linkSync(source, dest);
  } catch {
    copyFileSync(source, dest);
    chmodSync(dest, 0o755);
  }
  return dest;
}

function chownTree(path: string, uid: number, gid: number): void {
  chownSync(path, uid, gid);
  if (lstatSync(path).isDirectory()) for (const name of readdirSync(path)) chownTree(join(path, name), uid, gid);
}

/** uid mode: every directory above `path` must be searchable, and `path` readable, by "others". */
function assertReachableByOthers(path: string, what: string): void {
  const abs = resolve(path);
  const parts = abs.split('/').filter((s) => s.length > 0);
  let current = '/';
  for (const [i, part] of parts.entries()) {
    current = join(current, part);
    const st = statSync(current);
    const last = i === parts.length - 1;
    const need = st.isDirectory() ? 0o001 : st.isSocket() ? 0o002 : 0o004;
    if (!last && (st.mode & 0o001) === 0) throw new CheckFailedError(`up: ${current} is not searchable by other users (mode ${(st.mode & 0o777).toString(8)}), but ${what} (${abs}) must be reachable by the demo's service uids; chmod o+x it or use another --data-dir`);
    if (last && (st.mode & need) === 0) throw new CheckFailedError(`up: ${current} is not accessible by other users (mode ${(st.mode & 0o777).toString(8)}), but the demo's service uids need it (${what})`);
  }
}

/**
 * The runtime flags of this process the children need, values made absolute
 * (the children start in other directories): `--import`/`--loader` (tsx under
 * the tests, nothing after the build), `--require`, `--conditions` and a few
 * harmless switches. Everything else (`-e`, `--input-type`, `--test`,
 * `--inspect`, …) belongs to this process only.
 */
export function resolveExecArgv(argv: readonly string[]): string[] {
  const out: string[] = [];
  const fix = (value: string): string => {
    if (/^[a-z][a-z0-9+.-]*:/i.test(value) || isAbsolute(value)) return value;
    if (value.startsWith('.')) return pathToFileURL(resolve(value)).href;
    try {
      return import.meta.resolve(value);
    } catch {
      return value;
    }
  };
  const withValue = /^(--import|--loader|--experimental-loader|--require|-r|--conditions|-C)(=(.*))?$/;
  const switches = /^--(enable-source-maps|no-warnings|no-deprecation|experimental-[a-z-]+|max-old-space-size=\d+|stack-trace-limit=\d+)$/;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const m = withValue.exec(a);
    if (m !== null) {
      const isModule = m[1] === '--import' || m[1] === '--loader' || m[1] === '--experimental-loader';
      const value = m[2] !== undefined ? m[3]! : argv[++i];
      if (value === undefined) continue;
      const fixed = isModule ? fix(value) : value;
      out.push(m[2] !== undefined ? `${m[1]}=${fixed}` : m[1]!, ...(m[2] !== undefined ? [] : [fixed]));
    } else if (switches.test(a)) {
      out.push(a);
    }
  }
  return out;
}
