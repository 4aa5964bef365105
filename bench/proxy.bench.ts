/**
 * meshward proxy vs nginx, side by side in one run (method of shared/perf):
 * the same plain-HTTP app behind (a) nginx terminating mTLS (TLS 1.3,
 * ssl_verify_client on, keep-alive upstream, 2 workers) and (b) `meshward
 * proxy run` with a policy, a rate limit and a bulkhead on the route, audit
 * to a file and metrics on. Load (bench/support/load-tools.ts): wrk for the
 * closed loop and h2load --h1 --rps for the fixed rate, both given the client
 * certificate by an LD_PRELOAD library; 50 keep-alive connections, HTTP/1.1,
 * no TLS resumption.
 *
 * Scenarios: max throughput (closed loop), and a fixed 1,000 req/s where we
 * read p50/p99 latency, CPU per request (/proc/PID/stat utime+stime of the
 * server processes) and RSS. Beside them, `node_tls_floor`: a bare Node
 * https server terminating the same mTLS and answering by itself — the cost
 * of Node's TLS and HTTP alone, below which no Node sidecar can go.
 * Prints ONE JSON line {"bench":"proxy",...}.
 *
 *   node --import tsx bench/proxy.bench.ts        (DUR=seconds per scenario, default 8)
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initCaDirectory } from '../src/ca/index.js';
import { encodePem } from '../src/spiffe/pem.js';
import { buildClientCertPreload, ensureBinary, h2loadFixedRate, wrkClosedLoop } from './support/load-tools.js';

const DUR = Number(process.env.DUR ?? 8);
const CONNS = 50;
const ROOT = new URL('..', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'mw-proxy-bench-'));
const started: ChildProcess[] = [];
const CLK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());

const orphans: number[] = []; // nginx workers outlive a killed master
function cleanup(): void {
  for (const c of started) if (c.exitCode === null) c.kill('SIGKILL');
  for (const pid of orphans) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
}
process.on('exit', cleanup);

// ---------- PKI ----------
const ca = initCaDirectory({ dir: join(dir, 'ca'), trustDomain: 'example.org' });
function svid(path: string) {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const minted = ca.mintX509Svid({ spiffeId: `spiffe://example.org${path}`, publicKey, ttlSeconds: 3600 });
  const name = path.slice(1);
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  writeFileSync(cert, minted.chain.map((d: Buffer) => encodePem('CERTIFICATE', d)).join(''));
  writeFileSync(key, privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, { mode: 0o600 });
  return { cert, key };
}
const server = svid('/payment');
const client = svid('/order');
const bundle = join(dir, 'bundle.pem');
writeFileSync(bundle, ca.bundle().toPem());

// ---------- processes ----------
function waitLine(child: ChildProcess, re: RegExp, what: string): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${what} did not start: ${out}`)), 30_000);
    const on = (c: Buffer) => {
      out += c.toString();
      const m = re.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    };
    child.stdout?.on('data', on);
    child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
    child.once('exit', (code) => reject(new Error(`${what} exited ${code}: ${out}`)));
  });
}

const APP = `const http=require('http');const s=http.createServer((q,r)=>{q.resume();q.on('end',()=>{r.writeHead(200,{'content-type':'text/plain','content-length':'2'});r.end('ok')})});s.keepAliveTimeout=65000;s.listen(0,'127.0.0.1',()=>console.log('port '+s.address().port))`;
const app = spawn(process.execPath, ['-e', APP], { stdio: ['ignore', 'pipe', 'pipe'] });
started.push(app);
const appPort = Number((await waitLine(app, /port (\d+)/, 'app'))[1]);

const nginxPort = 18443 + Math.floor(Math.random() * 1000);
writeFileSync(
  join(dir, 'nginx.conf'),
  `worker_processes 2;
pid ${dir}/nginx.pid;
error_log ${dir}/nginx-error.log warn;
events { worker_connections 8192; }
http {
  access_log off;
  client_body_temp_path ${dir}/nb; proxy_temp_path ${dir}/np; fastcgi_temp_path ${dir}/nf; uwsgi_temp_path ${dir}/nu; scgi_temp_path ${dir}/ns;
  upstream app { server 127.0.0.1:${appPort}; keepalive 256; keepalive_requests 1000000; }
  server {
    listen 127.0.0.1:${nginxPort} ssl;
    ssl_certificate ${server.cert};
    ssl_certificate_key ${server.key};
    ssl_client_certificate ${bundle};
    ssl_verify_client on;
    ssl_protocols TLSv1.3;
    ssl_session_tickets off;
    ssl_session_cache off;
    keepalive_requests 1000000;
    keepalive_timeout 65s;
    location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
`,
);
const nginx = spawn(ensureBinary('nginx', 'nginx'), ['-c', join(dir, 'nginx.conf'), '-p', dir, '-g', 'daemon off;'], { stdio: ['ignore', 'pipe', 'pipe'] });
started.push(nginx);

// the audit file lives apart from the watched SVID files
const auditDir = mkdtempSync(join(tmpdir(), 'mw-proxy-bench-audit-'));
// the proxy: every guard on the route, the policy check, audit to a file, metrics
writeFileSync(
  join(dir, 'policy.yaml'),
  `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: payment-callers, namespace: shop }
spec:
  selector: { matchLabels: { app: payment } }
  action: ALLOW
  rules:
  - from: [{ source: { principals: ["example.org/order", "example.org/auth"] } }]
    to: [{ operation: { methods: ["GET", "POST"], paths: ["/payment/*", "/"] } }]
`,
);
writeFileSync(
  join(dir, 'proxy.yaml'),
  `workload: { namespace: shop, labels: { app: payment } }
identity: { files: { cert: ${server.cert}, key: ${server.key}, bundle: ${bundle} } }
inbound: { listen: 127.0.0.1:0, app: 127.0.0.1:${appPort} }
policy: ${join(dir, 'policy.yaml')}
metrics: { bind: 127.0.0.1:0 }
audit: { file: ${join(auditDir, 'audit.jsonl')} }
logLevel: warn
defaults:
  rateLimit: { ratePerSecond: 1000000, burst: 1000000 }
  bulkhead: { maxConcurrent: 1000, maxQueue: 0 }
`,
);
// Run the compiled CLI when dist/ is built (what users run); else through tsx.
const distCli = join(ROOT, 'dist', 'cli', 'proxy.js');
const proxyArgs = existsSync(distCli)
  ? ['--input-type=module', '-e', `import {Command} from 'commander';import {registerProxyCommands} from ${JSON.stringify(distCli)};const p=new Command('meshward');registerProxyCommands(p);await p.parseAsync(process.argv.slice(1),{from:'user'});`, 'proxy', 'run', '--config', join(dir, 'proxy.yaml')]
  : ['--import', 'tsx', join(ROOT, 'src', 'cli', 'bin.ts'), 'proxy', 'run', '--config', join(dir, 'proxy.yaml')];
const profileArgs = process.env.PROFILE ? ['--cpu-prof', '--cpu-prof-dir', process.env.PROFILE] : [];
const proxy = spawn(process.execPath, [...profileArgs, ...proxyArgs], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SPIFFE_ENDPOINT_SOCKET: '' } });
started.push(proxy);
const proxyPort = Number((await waitLine(proxy, /inbound [^:]+:(\d+)/, 'proxy'))[1]);

// The floor: Node's own TLS server terminating the same mTLS and answering
// by itself (no proxying, no policy, no audit) — what any Node sidecar pays
// before doing its job, printed beside nginx and us.
const FLOOR = `const https=require('https'),fs=require('fs');const [cert,key,ca]=process.argv.slice(1);const s=https.createServer({cert:fs.readFileSync(cert),key:fs.readFileSync(key),ca:fs.readFileSync(ca),requestCert:true,rejectUnauthorized:true,minVersion:'TLSv1.3'},(q,r)=>{q.resume();r.writeHead(200,{'content-type':'text/plain','content-length':'2'});r.end('ok')});s.keepAliveTimeout=65000;s.listen(0,'127.0.0.1',()=>console.log('port '+s.address().port))`;
const floor = spawn(process.execPath, ['-e', FLOOR, server.cert, server.key, bundle], { stdio: ['ignore', 'pipe', 'pipe'] });
started.push(floor);
const floorPort = Number((await waitLine(floor, /port (\d+)/, 'node floor server'))[1]);
await new Promise((r) => setTimeout(r, 500));
const nginxPids = [nginx.pid!, ...execFileSync('pgrep', ['-P', String(nginx.pid)]).toString().trim().split('\n').map(Number).filter(Boolean)];
orphans.push(...nginxPids.slice(1));

// ---------- load (native generators with a client-certificate preload) ----------
const clientCert = { preload: buildClientCertPreload(dir), cert: client.cert, key: client.key };

function ticks(pids: number[]): number {
  let t = 0;
  for (const p of pids) {
    try {
      const f = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]!.split(' ');
      t += Number(f[11]) + Number(f[12]);
    } catch {
      /* gone */
    }
  }
  return t;
}
function rssMb(pids: number[]): number {
  let kb = 0;
  for (const p of pids) {
    try {
      const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      kb += Number(m?.[1] ?? 0);
    } catch {
      /* gone */
    }
  }
  return kb / 1024;
}

interface Run {
  rps: number;
  p50: number | null;
  p99: number | null;
  errors: number;
  cpuUsPerReq: number | null;
  rssMaxMb: number;
}
let runs = 0;
async function run(url: string, pids: number[], rate: number): Promise<Run> {
  const c0 = ticks(pids);
  let rssMax = rssMb(pids);
  const sampler = setInterval(() => (rssMax = Math.max(rssMax, rssMb(pids))), 250);
  const r = rate > 0 ? await h2loadFixedRate(url, CONNS, rate, DUR, join(dir, `h2load-${++runs}.log`), clientCert) : await wrkClosedLoop(url, CONNS, 2, DUR, clientCert);
  clearInterval(sampler);
  const c1 = ticks(pids);
  return { rps: Math.round(r.rps), p50: r.p50Ms, p99: r.p99Ms, errors: r.errors, cpuUsPerReq: pids.length && r.requests ? Math.round(((c1 - c0) / CLK / r.requests) * 1e6 * 10) / 10 : null, rssMaxMb: Math.round(rssMax * 10) / 10 };
}

const round = (v: number | null) => (v === null ? null : Math.round(v * 1000) / 1000);
// warm-up
await run(`https://127.0.0.1:${proxyPort}/`, [], 0).catch(() => undefined);
await run(`https://127.0.0.1:${nginxPort}/`, [], 0).catch(() => undefined);
await run(`https://127.0.0.1:${floorPort}/`, [], 0).catch(() => undefined);
// interleaved: throughput, then fixed 1,000 req/s
const nginxMax = await run(`https://127.0.0.1:${nginxPort}/`, nginxPids, 0);
const proxyMax = await run(`https://127.0.0.1:${proxyPort}/`, [proxy.pid!], 0);
const direct1k = await run(`http://127.0.0.1:${appPort}/`, [], 1000);
const nginx1k = await run(`https://127.0.0.1:${nginxPort}/`, nginxPids, 1000);
const proxy1k = await run(`https://127.0.0.1:${proxyPort}/`, [proxy.pid!], 1000);
const floorMax = await run(`https://127.0.0.1:${floorPort}/`, [floor.pid!], 0);
const floor1k = await run(`https://127.0.0.1:${floorPort}/`, [floor.pid!], 1000);

const result = {
  bench: 'proxy',
  node: process.version,
  cpus: Number(execFileSync('nproc').toString().trim()),
  duration_s: DUR,
  connections: CONNS,
  nginx_workers: 2,
  proxy_processes: 1,
  max_rps: { nginx: nginxMax.rps, meshward: proxyMax.rps },
  max_rps_ratio: Math.round((proxyMax.rps / nginxMax.rps) * 100) / 100,
  max_errors: { nginx: nginxMax.errors, meshward: proxyMax.errors },
  cpu_us_per_req_max: { nginx: nginxMax.cpuUsPerReq, meshward: proxyMax.cpuUsPerReq },
  cpu_us_per_req_1k: { nginx: nginx1k.cpuUsPerReq, meshward: proxy1k.cpuUsPerReq },
  cpu_ratio_1k: nginx1k.cpuUsPerReq && proxy1k.cpuUsPerReq ? Math.round((proxy1k.cpuUsPerReq / nginx1k.cpuUsPerReq) * 100) / 100 : null,
  p50_ms_1k: { direct: round(direct1k.p50), nginx: round(nginx1k.p50), meshward: round(proxy1k.p50) },
  p99_ms_1k: { direct: round(direct1k.p99), nginx: round(nginx1k.p99), meshward: round(proxy1k.p99) },
  p99_added_ms_1k: { nginx: round((nginx1k.p99 ?? 0) - (direct1k.p99 ?? 0)), meshward: round((proxy1k.p99 ?? 0) - (direct1k.p99 ?? 0)) },
  rss_max_mb: { nginx: Math.max(nginxMax.rssMaxMb, nginx1k.rssMaxMb), meshward: Math.max(proxyMax.rssMaxMb, proxy1k.rssMaxMb) },
  errors_1k: { direct: direct1k.errors, nginx: nginx1k.errors, meshward: proxy1k.errors },
  goals: {
    throughput_ge_0_6x_nginx: proxyMax.rps >= 0.6 * nginxMax.rps,
    cpu_1k_le_1_5x_nginx: (proxy1k.cpuUsPerReq ?? Infinity) <= 1.5 * (nginx1k.cpuUsPerReq ?? 0),
    p99_added_le_1ms: (proxy1k.p99 ?? Infinity) - (direct1k.p99 ?? 0) <= 1,
    rss_le_60mb: Math.max(proxyMax.rssMaxMb, proxy1k.rssMaxMb) <= 60,
  },
  proxy_runtime: existsSync(distCli) ? 'dist' : 'tsx',
  node_tls_floor: { max_rps: floorMax.rps, cpu_us_per_req_max: floorMax.cpuUsPerReq, cpu_us_per_req_1k: floor1k.cpuUsPerReq, p99_ms_1k: round(floor1k.p99), rss_max_mb: Math.max(floorMax.rssMaxMb, floor1k.rssMaxMb) },
};
process.stdout.write(`${JSON.stringify(result)}\n`);
if (process.env.PROFILE) {
  proxy.kill('SIGTERM');
  await new Promise((r) => proxy.once('exit', r));
}
cleanup();
process.exit(0);
