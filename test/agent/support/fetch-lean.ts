/**
 * A lean FetchX509SVID load process for bench/agent.bench.ts (started by
 * lean-load.ts, several at once). CLIENTS clients, each on its own
 * connection to the agent's socket; no grpc-js and no protobuf: a fetch
 * sends the pre-framed empty X509SVIDRequest with the `workload.spiffe.io:
 * true` metadata, stops the clock when a complete gRPC message (5-byte prefix
 * + its length) has arrived in DATA frames, then cancels the stream
 * (RST_STREAM CANCEL), as a workload that wants only the current SVIDs does.
 * The client is raw HTTP/2 frames on a socket (raw-h2-client.ts) unless
 * LEAN_CLIENT=node-http2 (node:http2's client, 2–4× the agent's CPU per
 * fetch: its own delays then show in the figures). What is timed is the
 * agent plus one loopback hop, not a client library.
 *
 *   node --import tsx fetch-lean.ts SOCKET CLIENTS
 *
 * Commands on stdin, one JSON line on stdout for each:
 *   connect                       every client connects and fetches once (the
 *                                 connection is then attested and warm)
 *   closed CALLS                  closed loop: each client fetches CALLS times,
 *                                 the next as soon as the last answered
 *   paced INTERVAL_MS DURATION_MS open loop: each client starts a fetch every
 *                                 INTERVAL_MS (first at a random offset) for
 *                                 DURATION_MS, whether or not the last answered
 *   exit
 * Answer: { lat: ms from sending to the complete message, lag: ms each send
 * was late against its schedule (paced only: the client's own delay), errors,
 * cpuMs: this process's CPU during the command, loopMaxMs/loopP99Ms: this
 * process's event-loop delay (a stalled client would inflate `lat`) }.
 */
import http2, { type ClientHttp2Session } from 'node:http2';
import { connect } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { RawH2Connection } from './raw-h2-client.js';

const [socketPath, clientsArg] = process.argv.slice(2);
const CLIENTS = Number(clientsArg ?? 25);
const TIMEOUT_MS = 15_000;

const HEADERS = Object.freeze({ ':method': 'POST', ':path': '/SpiffeWorkloadAPI/FetchX509SVID', 'content-type': 'application/grpc', te: 'trailers', 'workload.spiffe.io': 'true' });
/** One empty X509SVIDRequest: flag 0, length 0. */
const EMPTY_REQUEST = Buffer.alloc(5);
const { NGHTTP2_CANCEL } = http2.constants;
const now = (): number => performance.now();

class FetchError extends Error {}

/** One fetch on `session`: resolves with ms from sending to the complete first message. */
function fetchOnce(session: ClientHttp2Session): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = now();
    const req = session.request(HEADERS);
    let got = 0;
    let need = -1;
    let head: Buffer | undefined;
    let settled = false;
    const settle = (err: Error | undefined, ms?: number): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (!req.closed) req.close(NGHTTP2_CANCEL);
      if (err) reject(err);
      else resolve(ms!);
    };
    const timer = setTimeout(() => settle(new FetchError(`no message in ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
    req.on('data', (chunk: Buffer) => {
      got += chunk.length;
      if (need < 0) {
        head = head === undefined ? chunk : Buffer.concat([head, chunk]);
        if (head.length < 5) return;
        need = 5 + head.readUInt32BE(1);
      }
      if (got >= need) settle(undefined, now() - start);
    });
    req.on('trailers', (t) => settle(new FetchError(`ended without a message: grpc-status ${String(t['grpc-status'])}`)));
    req.on('response', (h) => {
      if (h['grpc-status'] !== undefined) settle(new FetchError(`trailers-only answer: grpc-status ${String(h['grpc-status'])}`));
    });
    req.on('error', (err) => settle(err));
    req.on('close', () => settle(new FetchError('stream closed without a message')));
    req.end(EMPTY_REQUEST);
  });
}

interface Client {
  fetch(): Promise<number>;
  close(): void;
}

/** LEAN_CLIENT=frames (default): hand-written HTTP/2 frames; node-http2: node:http2's client. */
function open(): Client {
  if (process.env.LEAN_CLIENT === 'node-http2') {
    const session = http2.connect('http://localhost', { createConnection: () => connect(socketPath!) });
    session.on('error', () => undefined); // surfaces as failed fetches
    return { fetch: () => fetchOnce(session), close: () => session.destroy() };
  }
  const raw = new RawH2Connection(socketPath!);
  return { fetch: () => raw.fetch(), close: () => raw.close() };
}

const sessions: Client[] = [];
const loop = monitorEventLoopDelay({ resolution: 1 });
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function measure(run: (lat: number[], lag: number[], fail: () => void) => Promise<void>): Promise<object> {
  const lat: number[] = [];
  const lag: number[] = [];
  let errors = 0;
  loop.reset();
  loop.enable();
  const cpu0 = process.cpuUsage();
  await run(lat, lag, () => errors++);
  const cpu = process.cpuUsage(cpu0);
  loop.disable();
  const r3 = (n: number): number => Math.round(n * 1000) / 1000;
  return { lat: lat.map(r3), lag: lag.map(r3), errors, cpuMs: r3((cpu.user + cpu.system) / 1000), loopMaxMs: r3(loop.max / 1e6), loopP99Ms: r3(loop.percentile(99) / 1e6) };
}

async function closed(calls: number, lat: number[], _lag: number[], fail: () => void): Promise<void> {
  await Promise.all(
    sessions.map(async (s) => {
      for (let i = 0; i < calls; i++) {
        try {
          lat.push(await s.fetch());
        } catch {
          fail();
        }
      }
    }),
  );
}

/** Open loop: fetches start on schedule; one still in flight does not delay the next. */
async function paced(intervalMs: number, durationMs: number, lat: number[], lag: number[], fail: () => void): Promise<void> {
  const t0 = now();
  const end = t0 + durationMs;
  const inflight: Promise<void>[] = [];
  await Promise.all(
    sessions.map(async (s) => {
      let due = t0 + Math.random() * intervalMs;
      while (due < end) {
        const wait = due - now();
        if (wait > 0) await sleep(wait);
        lag.push(Math.max(0, now() - due));
        inflight.push(s.fetch().then((ms) => void lat.push(ms), fail));
        due += intervalMs;
      }
    }),
  );
  await Promise.all(inflight);
}

const reply = (o: object): boolean => process.stdout.write(JSON.stringify(o) + '\n');

for await (const line of createInterface({ input: process.stdin })) {
  const [command, a, b] = line.trim().split(/\s+/);
  try {
    if (command === 'connect') {
      for (let i = sessions.length; i < CLIENTS; i++) sessions.push(open());
      reply(await measure((lat, lag, fail) => closed(1, lat, lag, fail)));
    } else if (command === 'closed') reply(await measure((lat, lag, fail) => closed(Number(a), lat, lag, fail)));
    else if (command === 'paced') reply(await measure((lat, lag, fail) => paced(Number(a), Number(b), lat, lag, fail)));
    else if (command === 'exit') break;
    else reply({ error: `unknown command ${command}` });
  } catch (err) {
    reply({ error: (err as Error).message });
  }
}
for (const s of sessions) s.close();
process.exit(0);
