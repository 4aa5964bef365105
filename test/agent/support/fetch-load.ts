/**
 * Load generator for bench/agent.bench.ts, run as its own process so its CPU
 * does not hide the agent's: CLIENTS stock grpc-js clients, each on its own
 * HTTP/2 connection (a local subchannel pool), open FetchX509SVID streams.
 *
 *   node --import tsx fetch-load.ts SOCKET CLIENTS CALLS [PACED_INTERVAL_MS [AGENT_PID]]
 *
 * Phase "connect": every client opens its connection and its first stream at
 * once (connection + attestation + first message). Phase "stream": each
 * client then opens CALLS fresh streams one after another on its warm
 * connection, all clients concurrently; the figure is the time from opening
 * the stream to its first message (the FetchX509SVID answered from cache).
 * This is a closed loop: its latency is bounded by throughput (Little's law,
 * latency ≈ CLIENTS / calls per second). Phase "paced": each client opens a
 * fresh stream every PACED_INTERVAL_MS (start times spread at random), CALLS
 * times — an open loop at CLIENTS × 1000 / interval calls a second, latency
 * without self-inflicted queueing. With AGENT_PID, the agent's CPU time
 * (from /proc) during each phase is reported too.
 * Phase "raw": RAW_CONNECTIONS new connections, one at a time, from a plain
 * node:http2 client (no grpc-js channel machinery): connect, one
 * FetchX509SVID, its first message — the agent's own latency for a new
 * caller (attestation included). It runs after the grpc-js channels are
 * closed: their timers, in this same process, put 6–30 ms stalls into it.
 * Prints one JSON line: sorted latencies in ms for each phase.
 */
import * as grpc from '@grpc/grpc-js';
import * as loader from '@grpc/proto-loader';
import http2 from 'node:http2';
import { connect } from 'node:net';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const [socket, clientsArg, callsArg] = process.argv.slice(2);
const CLIENTS = Number(clientsArg ?? 100);
const CALLS = Number(callsArg ?? 20);
const PACED_MS = Number(process.argv[5] ?? 0);
const AGENT_PID = process.argv[6];
const TICK_MS = 10; // USER_HZ: clock ticks in /proc/PID/stat are 1/100 s on Linux
const agentCpuMs = (): number => {
  if (AGENT_PID === undefined) return 0;
  const stat = readFileSync(`/proc/${AGENT_PID}/stat`, 'latin1');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * TICK_MS; // utime, stime (fields 14, 15)
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const PROTO = fileURLToPath(new URL('../../../proto/workload.proto', import.meta.url));
const definition = loader.loadSync(PROTO, { keepCase: true, longs: String, defaults: true });
const Service = (grpc.loadPackageDefinition(definition) as any).SpiffeWorkloadAPI as grpc.ServiceClientConstructor;

const md = (): grpc.Metadata => {
  const m = new grpc.Metadata();
  m.set('workload.spiffe.io', 'true');
  return m;
};

function first(client: any, timeoutMs = 15_000): Promise<number> {
  const start = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const call = client.FetchX509SVID({}, md());
    const timer = setTimeout(() => {
      call.cancel();
      reject(new Error(`no first message in ${timeoutMs} ms`));
    }, timeoutMs);
    let done = false;
    call.on('data', () => {
      if (done) return;
      done = true;
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      clearTimeout(timer);
      call.cancel();
      resolve(ms);
    });
    call.on('error', (err: grpc.ServiceError) => {
      clearTimeout(timer);
      if (!done) reject(err);
    });
  });
}

/** A new connection and one FetchX509SVID on it, by hand: the time to the first DATA frame. */
function rawFirst(): Promise<number> {
  const start = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const session = http2.connect('http://localhost', { createConnection: () => connect(socket!) });
    session.on('error', reject);
    const req = session.request({ ':method': 'POST', ':path': '/SpiffeWorkloadAPI/FetchX509SVID', 'content-type': 'application/grpc', te: 'trailers', 'workload.spiffe.io': 'true' });
    req.on('error', reject);
    req.once('data', () => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      req.close();
      session.destroy();
      resolve(ms);
    });
    req.end(Buffer.alloc(5)); // one empty X509SVIDRequest
  });
}

const clients = Array.from({ length: CLIENTS }, () => new Service(`unix://${socket}`, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }));
const out: Record<string, unknown> = { clients: CLIENTS, calls: CALLS };
try {
  const t0 = Date.now();
  out.connect = (await Promise.all(clients.map((c) => first(c)))).sort((a, b) => a - b);
  out.connectWallMs = Date.now() - t0;
  const lat: number[] = [];
  let cpu0 = agentCpuMs();
  const t1 = Date.now();
  await Promise.all(
    clients.map(async (c) => {
      for (let i = 0; i < CALLS; i++) lat.push(await first(c));
    }),
  );
  out.streamWallMs = Date.now() - t1;
  out.streamAgentCpuMs = agentCpuMs() - cpu0;
  out.stream = lat.sort((a, b) => a - b);
  if (PACED_MS > 0) {
    const paced: number[] = [];
    cpu0 = agentCpuMs();
    const t2 = Date.now();
    await Promise.all(
      clients.map(async (c) => {
        await sleep(Math.random() * PACED_MS);
        let next = Date.now();
        for (let i = 0; i < CALLS; i++) {
          paced.push(await first(c));
          next += PACED_MS;
          await sleep(Math.max(0, next - Date.now()));
        }
      }),
    );
    out.pacedWallMs = Date.now() - t2;
    out.pacedAgentCpuMs = agentCpuMs() - cpu0;
    out.paced = paced.sort((a, b) => a - b);
  }
  // the grpc-js channels go first: their timers would run inside the raw measurement
  for (const c of clients) c.close();
  await sleep(200);
  const raw: number[] = [];
  for (let i = 0; i < Number(process.env.RAW_CONNECTIONS ?? 50); i++) raw.push(await rawFirst());
  out.raw = raw.sort((a, b) => a - b);
} catch (err) {
  out.error = (err as Error).message;
}
for (const c of clients) c.close();
process.stdout.write(JSON.stringify(out) + '\n');
process.exit(0);
