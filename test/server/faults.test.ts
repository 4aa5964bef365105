/**
 * Datastore faults: unreachable at start (a clear error, no server), and
 * lost during a run (`/ready` 503, store-backed requests 503, no crash,
 * recovery when it returns). PostgreSQL is reached through a TCP proxy the
 * test opens and closes. Needs MESHWARD_TEST_PG_URL (fails without).
 */
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { request } from 'undici';
import { startServer } from '../../src/server/server.js';
import { ServerError } from '../../src/server/server-error.js';
import { requirePgUrl, schemaUrl } from './support/pg.js';
import { adminCall, attest, call, createEntries, csrPem, eventually, tempDir, testConfig, TD } from './support/runtime.js';

/** A TCP proxy to PostgreSQL that the test can cut and restore on the same port. */
class PgProxy {
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  async open(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(this.target);
      this.#sockets.add(client).add(upstream);
      const drop = (): void => {
        client.destroy();
        upstream.destroy();
        this.#sockets.delete(client);
        this.#sockets.delete(upstream);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as { port: number }).port;
    this.#server = server;
  }

  async cut(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const s of this.#sockets) s.destroy();
    this.#sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

test('datastore unreachable at start: a clear error naming the datastore, without its password', async (t) => {
  const dir = tempDir(t);
  await assert.rejects(startServer(testConfig(join(dir, 'data'), { datastore: 'postgres://meshward:hunter2-pw@127.0.0.1:1/db' })), (err: unknown) => {
    assert.ok(err instanceof ServerError);
    assert.equal(err.code, 'ERR_SERVER_DATASTORE_UNAVAILABLE');
    assert.match(err.message, /postgres:\/\/meshward:\*\*\*@127\.0\.0\.1:1\/db/);
    assert.doesNotMatch(err.message, /hunter2/);
    return true;
  });
});

test('datastore lost during a run: /ready 503, store-backed requests 503, then recovery', { timeout: 60_000 }, async (t) => {
  const base = new URL(requirePgUrl());
  const proxy = new PgProxy({ host: base.hostname, port: Number(base.port || 5432) });
  await proxy.open();
  t.after(() => proxy.cut());
  const viaProxy = new URL(base);
  viaProxy.port = String(proxy.port);
  const datastore = await schemaUrl(t, viaProxy.toString());
  const server = await startServer(testConfig(join(tempDir(t), 'data'), { datastore }));
  t.after(() => server.close());
  const agent = await attest(server);
  t.after(() => agent.dispatcher.close());
  const [entry] = await createEntries(server, [{ spiffeId: `spiffe://${TD}/web`, parentId: agent.id }]);
  const ready = async (): Promise<number> => {
    const r = await request(`${server.urls.health}/ready`);
    await r.body.dump();
    return r.statusCode;
  };
  assert.equal(await ready(), 200);

  await proxy.cut();
  assert.ok(await eventually(async () => (await ready()) === 503, 5000), '/ready turns 503');
  // A request may first meet a pooled connection that just broke; the next ones get the pool's verdict.
  let agents = await adminCall(server, 'GET', '/v1/agents');
  if (agents.status !== 503) agents = await adminCall(server, 'GET', '/v1/agents');
  assert.equal(agents.status, 503, agents.text);
  let policies = await call(server, agent.dispatcher, 'GET', '/agent/v1/policies');
  if (policies.status !== 503) policies = await call(server, agent.dispatcher, 'GET', '/agent/v1/policies');
  assert.equal(policies.status, 503, policies.text);
  assert.equal(policies.body.error.code, 'ERR_STORE_UNAVAILABLE');
  assert.equal(await ready(), 503);
  const live = await request(`${server.urls.health}/live`);
  assert.equal(live.statusCode, 200, 'still alive');
  await live.body.dump();

  await proxy.open();
  assert.ok(await eventually(async () => (await ready()) === 200, 15_000), '/ready recovers');
  const again = await adminCall(server, 'GET', '/v1/agents');
  assert.equal(again.status, 200);
  const sign = await call(server, agent.dispatcher, 'POST', '/agent/v1/sign', { requests: [{ entryId: entry!.id, csr: csrPem() }] });
  assert.equal(sign.status, 200, sign.text);
  // The change feed resumed: a new entry is served.
  const [later] = await createEntries(server, [{ spiffeId: `spiffe://${TD}/later`, parentId: agent.id }]);
  assert.ok(await eventually(async () => (await call(server, agent.dispatcher, 'GET', '/agent/v1/entries')).body.entries.some((e: { id: string }) => e.id === later!.id)));
});
