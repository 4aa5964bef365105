/**
 * The Node SDK against the real meshward agent: a server in process, the
 * agent as a child (`meshward agent run`, as test/agent does), and workloads
 * as child processes under their own uids, so that the agent attests each
 * apart (`unix:uid:N` selectors), over real sockets.
 *
 *  1. `X509Source.create({ address })` resolves with the SVID of the
 *     workload's entry, and the source's bundle verifies it.
 *  2. Rotation (20 s X.509 TTL): the source emits a new SVID, and an
 *     `createMtlsServer` on it keeps serving a client of another identity
 *     (its own X509Source, through `MtlsAgent`), with `req.spiffeId` right.
 *  3. JWT-SVIDs: `JwtSource` → `requireJwtSvid` on the other workload (a
 *     BundleSource on the same agent): 200; another audience: 401.
 *  4. The entry deleted on the server: the source stops offering the SVID
 *     (PermissionDenied) within seconds; new mTLS connections are refused.
 *  5. examples/mtls and examples/jwt run against the agent as docs/sdk.md
 *     says (the mTLS pair under two uids; the JWT pair under one uid, each
 *     picking its identity with SPIFFE_ID): the Express service's call to
 *     the Fastify service succeeds.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { adminCall, createEntries, joinToken, startTestServer, TD } from '../server/support/runtime.js';
import { sharedTempDir, startAgentProcess, TSX, writeFile, type Hooks } from '../agent/support/agent-process.js';

const WORKLOAD = fileURLToPath(new URL('./support/agent-workload.ts', import.meta.url));
const EXAMPLES = fileURLToPath(new URL('../../examples/', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

// uids with entries; none of them exists in /etc/passwd, which does not matter for unix:uid selectors
const UID = { api: 62001, web: 62002, callee: 62011, caller: 62012, shared: 62013 } as const;
const ID = {
  api: `spiffe://${TD}/e2e/api`,
  web: `spiffe://${TD}/e2e/web`,
  callee: `spiffe://${TD}/fastify-service`,
  caller: `spiffe://${TD}/express-service`,
  jwtCallee: `spiffe://${TD}/jwt/fastify-service`,
  jwtCaller: `spiffe://${TD}/jwt/express-service`,
} as const;

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    }),
  ]);
}

function track(child: ChildProcess): { out: () => string } {
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  return { out: () => out };
}

function kill(child: ChildProcess): void {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

interface Workload {
  child: ChildProcess;
  events: Array<Record<string, any>>;
  call(op: string, args?: Record<string, unknown>, ms?: number): Promise<any>;
  waitEvent(pred: (e: Record<string, any>) => boolean, ms: number, what: string): Promise<Record<string, any>>;
  log(): string;
}

/** The SDK workload (support/agent-workload.ts) as a child under `uid`, driven over IPC. */
function startWorkload(t: Hooks, uid: number, address: string): Workload {
  const child = spawn(process.execPath, ['--import', TSX, WORKLOAD, address], {
    uid,
    gid: uid,
    cwd: ROOT,
    env: { ...process.env, HOME: '/tmp', SPIFFE_ENDPOINT_SOCKET: address },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  t.after(() => kill(child));
  const { out } = track(child);
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  const events: Array<Record<string, any>> = [];
  const waiters = new Set<() => void>();
  let next = 0;
  child.on('message', (m: any) => {
    if (m.reqId !== undefined) {
      const p = pending.get(m.reqId);
      pending.delete(m.reqId);
      if (m.ok) p?.resolve(m.result);
      else p?.reject(new Error(`workload uid ${uid}: ${m.error}\n${out()}`));
    } else {
      events.push(m);
      for (const w of [...waiters]) w();
    }
  });
  const call = (op: string, args: Record<string, unknown> = {}, ms = 25_000): Promise<any> => {
    const id = next++;
    const p = new Promise((resolve, reject) => pending.set(id, { resolve, reject }));
    child.send({ reqId: id, op, ...args });
    return withTimeout(p, ms, `workload uid ${uid} ${op}\n${out()}`);
  };
  const waitEvent = (pred: (e: Record<string, any>) => boolean, ms: number, what: string): Promise<Record<string, any>> =>
    withTimeout(
      new Promise<Record<string, any>>((resolve) => {
        const check = () => {
          const hit = events.find(pred);
          if (hit) {
            waiters.delete(check);
            resolve(hit);
          }
        };
        waiters.add(check);
        check();
      }),
      ms,
      what,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\nevents: ${JSON.stringify(events)}\n${out()}`);
    });
  return { child, events, call, waitEvent, log: out };
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

/** An example service as a child under `uid`, as a user runs it (`npx tsx examples/…`); resolves when it prints `ready`. */
function startExample(t: Hooks, file: string, uid: number, env: Record<string, string>, ready: RegExp): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', TSX, `${EXAMPLES}${file}`], {
    uid,
    gid: uid,
    cwd: ROOT,
    env: { ...process.env, HOME: '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => kill(child));
  const { out } = track(child);
  return withTimeout(
    new Promise<ChildProcess>((resolve, reject) => {
      child.stdout!.on('data', () => {
        if (ready.test(out())) resolve(child);
      });
      child.once('exit', (code) => reject(new Error(`${file} exited (${code})\n${out()}`)));
    }),
    30_000,
    `${file} start\n${out()}`,
  );
}

async function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const res = await request(url, { headers, headersTimeout: 10_000, bodyTimeout: 10_000 });
  const text = await res.body.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.statusCode, body };
}

const asRoot = process.getuid?.() === 0;

test('the Node SDK against the real meshward agent', { timeout: 90_000, skip: asRoot ? false : 'needs root: the workloads run under their own uids' }, async (t) => {
  const server = await startTestServer(t);
  const dir = sharedTempDir(t, 'mw-e2e-');
  const bundle = writeFile(dir, 'bundle.pem', server.ctx.ca.bundle().toPem());
  const { token } = await joinToken(server);
  const agent = await startAgentProcess(t, ['--server', server.urls.api, '--join-token', token, '--trust-bundle', bundle, '--socket', `${dir}/s/agent.sock`, '--data-dir', `${dir}/data`, '--health-bind', 'off', '--metrics-bind', 'off', '--log-level', process.env.MESHWARD_TEST_AGENT_LOG ?? 'warn']);
  const address = `unix://${agent.socketPath}`;
  const uidSelector = (uid: number) => [{ type: 'unix', value: `uid:${uid}` }];
  const [apiEntry] = await createEntries(server, [
    { spiffeId: ID.api, parentId: agent.spiffeId, selectors: uidSelector(UID.api), x509SvidTtl: 20 },
    { spiffeId: ID.web, parentId: agent.spiffeId, selectors: uidSelector(UID.web) },
    { spiffeId: ID.callee, parentId: agent.spiffeId, selectors: uidSelector(UID.callee) },
    { spiffeId: ID.caller, parentId: agent.spiffeId, selectors: uidSelector(UID.caller) },
    // the non-root way: both JWT examples under one uid, each picking its identity with SPIFFE_ID
    { spiffeId: ID.jwtCallee, parentId: agent.spiffeId, selectors: uidSelector(UID.shared) },
    { spiffeId: ID.jwtCaller, parentId: agent.spiffeId, selectors: uidSelector(UID.shared) },
  ]);

  // The examples start meanwhile (they compile and wait for their SVIDs on their own).
  const ports = { mtlsCallee: await freePort(), mtlsCaller: await freePort(), jwtCallee: await freePort(), jwtCaller: await freePort() };
  const socketEnv = { SPIFFE_ENDPOINT_SOCKET: address };
  const examples = Promise.all([
    startExample(t, 'mtls/fastify-service.ts', UID.callee, { ...socketEnv, CALLER_ID: ID.caller, PORT: String(ports.mtlsCallee) }, /fastify-service listening on https:/),
    startExample(t, 'jwt/fastify-service.ts', UID.shared, { ...socketEnv, SPIFFE_ID: ID.jwtCallee, CALLER_ID: ID.jwtCaller, PORT: String(ports.jwtCallee) }, /fastify-service \(JWT\) on http:/),
  ]).then(() =>
    Promise.all([
      startExample(t, 'mtls/express-service.ts', UID.caller, { ...socketEnv, CALLEE_ID: ID.callee, CALLEE_URL: `https://127.0.0.1:${ports.mtlsCallee}/greeting`, PORT: String(ports.mtlsCaller) }, /express-service on http:/),
      startExample(t, 'jwt/express-service.ts', UID.shared, { ...socketEnv, SPIFFE_ID: ID.jwtCaller, CALLEE_ID: ID.jwtCallee, CALLEE_URL: `http://127.0.0.1:${ports.jwtCallee}/greeting`, PORT: String(ports.jwtCaller) }, /express-service \(JWT\) on http:/),
    ]),
  );
  examples.catch(() => undefined); // awaited in step 5

  const api = startWorkload(t, UID.api, address);
  const web = startWorkload(t, UID.web, address);
  let apiPort = 0;

  await t.test('1. X509Source.create({ address }) resolves with the SVID of the workload’s entry; the bundle verifies it', async () => {
    const [a, w] = await Promise.all([api.call('x509'), web.call('x509')]);
    assert.equal(a.id, ID.api);
    assert.equal(a.verifiedId, ID.api, 'verifyX509Svid(svid, source) accepts it');
    assert.deepEqual(a.bundles, [TD]);
    assert.equal(w.id, ID.web, 'the other uid gets the other entry');
    assert.equal(w.verifiedId, ID.web);
    const ttl = Date.parse(a.expiresAt) - Date.now();
    assert.ok(ttl > 0 && ttl <= 20_000, `the entry's 20 s TTL (${ttl} ms left)`);
  });

  await t.test('2. rotation: a new SVID arrives; createMtlsServer keeps serving a client of another identity through MtlsAgent', async () => {
    const first = await api.call('svid');
    ({ port: apiPort } = await api.call('serve', { allow: ID.web }));
    const url = `https://127.0.0.1:${apiPort}/`;
    const before = await web.call('fetch', { url, expect: ID.api });
    assert.equal(before.status, 200, JSON.stringify(before));
    assert.equal(before.body.peer, ID.web, 'req.spiffeId is the client');
    assert.equal(before.body.servedWith, first.serial);
    const rotated = await api.waitEvent((e) => e.event === 'x509-update' && e.serial !== undefined && e.serial !== first.serial, 20_000, 'rotation of the 20 s SVID');
    assert.equal(rotated.id, ID.api);
    t.diagnostic(`rotated ${Math.round((rotated.at - (Date.parse(first.expiresAt) - 20_000)) / 1000)} s into the SVID's life`);
    const after = await web.call('fetch', { url, expect: ID.api });
    assert.equal(after.status, 200, JSON.stringify(after));
    assert.equal(after.body.peer, ID.web);
    assert.equal(after.body.servedWith, rotated.serial, 'new handshakes present the rotated SVID');
  });

  await t.test('3. JWT-SVIDs: JwtSource → requireJwtSvid({ audience }) on the other workload (BundleSource on the same agent)', async () => {
    const { port } = await api.call('jwtServe', { audience: ID.api });
    const good = await web.call('jwtSvid', { audience: ID.api });
    assert.equal(good.id, ID.web);
    const ok = await get(`http://127.0.0.1:${port}/`, { authorization: `Bearer ${good.token}` });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.subject, ID.web);
    const other = await web.call('jwtSvid', { audience: `spiffe://${TD}/somebody-else` });
    const refused = await get(`http://127.0.0.1:${port}/`, { authorization: `Bearer ${other.token}` });
    assert.equal(refused.status, 401, JSON.stringify(refused.body));
    const none = await get(`http://127.0.0.1:${port}/`);
    assert.equal(none.status, 401);
  });

  await t.test('4. the entry deleted on the server: the SVID is withdrawn (PermissionDenied) within seconds; new mTLS connections are refused', async () => {
    const url = `https://127.0.0.1:${apiPort}/`;
    assert.equal((await web.call('fetch', { url, expect: ID.api })).status, 200);
    const deletedAt = Date.now();
    const r = await adminCall(server, 'DELETE', `/v1/entries/${apiEntry!.id}`);
    assert.equal(r.status, 200, r.text);
    const gone = await api.waitEvent((e) => e.event === 'x509-update' && e.error === 'ERR_WORKLOAD_NO_IDENTITY', 5000, 'PermissionDenied after the deletion');
    t.diagnostic(`identity withdrawn ${gone.at - deletedAt} ms after the deletion`);
    assert.equal((await api.call('svid')).error, 'ERR_WORKLOAD_NO_IDENTITY');
    const refused = await web.call('fetch', { url, expect: ID.api });
    assert.equal(refused.status, undefined, `refused: ${JSON.stringify(refused)}`);
    assert.ok(refused.error, 'the connection was closed');
    assert.ok((await api.call('rejected')) >= 1, 'the server rejected the connection at the handshake stage');
  });

  await t.test('5. examples/mtls and examples/jwt against the agent: the Express service calls the Fastify service', async () => {
    await withTimeout(examples, 45_000, 'the examples');
    const mtls = await get(`http://127.0.0.1:${ports.mtlsCaller}/`);
    assert.equal(mtls.status, 200, JSON.stringify(mtls.body));
    assert.deepEqual(mtls.body, { from: ID.callee, answer: { greeting: 'hello', to: ID.caller } });
    for (let i = 0; i < 2; i++) {
      // twice: the caller reuses its cached JWT-SVID
      const jwt = await get(`http://127.0.0.1:${ports.jwtCaller}/`);
      assert.equal(jwt.status, 200, `call ${i + 1}: ${JSON.stringify(jwt.body)}`);
      assert.deepEqual(jwt.body, { answer: { greeting: 'hello', to: ID.jwtCaller } });
    }
  });
});
