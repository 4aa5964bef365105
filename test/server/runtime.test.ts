/**
 * The runtime around the routes: the watch stream, restarts, the KEK,
 * the admin socket, health, the server SVID.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { request } from 'undici';
import { startServer } from '../../src/server/server.js';
import { ServerError } from '../../src/server/server-error.js';
import { attest, call, createEntries, csrPem, startTestServer, tempDir, testConfig, TD } from './support/runtime.js';

test('watch: a change reaches a connected agent within 1 s', async (t) => {
  const server = await startTestServer(t);
  const agent = await attest(server);
  t.after(() => agent.dispatcher.close());
  const controller = new AbortController();
  t.after(() => controller.abort());
  const res = await request(`${server.urls.api}/agent/v1/watch`, { dispatcher: agent.dispatcher, signal: controller.signal });
  assert.equal(res.statusCode, 200);
  assert.match(String(res.headers['content-type']), /text\/event-stream/);
  let text = '';
  const events: Array<{ at: number; data: { changeId: number; kinds: string[] } }> = [];
  const reading = (async () => {
    try {
      for await (const chunk of res.body) {
        text += chunk.toString();
        for (const m of text.matchAll(/event: change\ndata: (.*)\n\n/g)) {
          if (events.length === 0 || !events.some((e) => JSON.stringify(e.data) === m[1])) events.push({ at: Date.now(), data: JSON.parse(m[1]!) });
        }
      }
    } catch {
      /* aborted */
    }
  })();
  await new Promise((r) => setTimeout(r, 300));
  const before = Date.now();
  await createEntries(server, [{ spiffeId: `spiffe://${TD}/web`, parentId: agent.id }]);
  const deadline = before + 1500;
  const entryEvent = () => events.find((e) => e.data.kinds.includes('entry'));
  while (entryEvent() === undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const event = entryEvent();
  assert.ok(event !== undefined, `no change event; stream so far: ${JSON.stringify(text)}`);
  assert.ok(event.at - before <= 1000, `delivered after ${event.at - before} ms`);
  assert.ok(event.data.changeId > 0);
  controller.abort();
  await reading;
});

test('watch: a banned agent\'s stream is closed', async (t) => {
  const server = await startTestServer(t);
  const agent = await attest(server);
  t.after(() => agent.dispatcher.close());
  const res = await request(`${server.urls.api}/agent/v1/watch`, { dispatcher: agent.dispatcher });
  assert.equal(res.statusCode, 200);
  const ended = (async () => {
    for await (const _ of res.body) void _;
    return true;
  })();
  await server.ctx.store.banAgent(agent.id, Math.floor(Date.now() / 1000));
  const result = await Promise.race([ended, new Promise((r) => setTimeout(() => r(false), 2000))]);
  assert.equal(result, true);
});

test('restart on the same data directory keeps the CA and the bundle; agents keep working', async (t) => {
  const dataDir = join(tempDir(t), 'data');
  const first = await startServer(testConfig(dataDir));
  const agent = await attest(first);
  const bundle1 = first.ctx.ca.bundle();
  const replica1 = first.replicaId;
  await agent.dispatcher.close();
  await first.close();

  const second = await startServer(testConfig(dataDir));
  t.after(() => second.close());
  const bundle2 = second.ctx.ca.bundle();
  assert.equal(second.replicaId, replica1);
  assert.deepEqual(bundle2.x509Authorities().map((d) => d.toString('base64')).sort(), bundle1.x509Authorities().map((d) => d.toString('base64')).sort());
  assert.deepEqual([...bundle2.jwtAuthorities().keys()].sort(), [...bundle1.jwtAuthorities().keys()].sort());
  // The agent's SVID from before the restart is still accepted.
  const { svidDispatcher } = await import('./support/runtime.js');
  const again = svidDispatcher(agent.svid, bundle2);
  t.after(() => again.close());
  const r = await call(second, again, 'POST', '/agent/v1/renew', { csr: csrPem() });
  assert.equal(r.status, 200, r.text);
});

test('KEK: CA keys are not PEM at rest; the wrong KEK is a clear error; the right one loads', async (t) => {
  const dataDir = join(tempDir(t), 'data');
  const kek = 'correct horse battery staple 0123456789';
  const first = await startServer(testConfig(dataDir, {}, { MESHWARD_KEK: kek }));
  const bundle1 = first.ctx.ca.bundle();
  await first.close();
  const caDir = join(dataDir, 'ca');
  const keyFiles = readdirSync(caDir).filter((f) => f.endsWith('.key'));
  assert.ok(keyFiles.length >= 2);
  for (const f of keyFiles) {
    const text = readFileSync(join(caDir, f), 'utf8');
    assert.ok(!text.includes('PRIVATE KEY'), `${f} is not PEM`);
    assert.equal(statSync(join(caDir, f)).mode & 0o777, 0o600);
  }
  await assert.rejects(startServer(testConfig(dataDir, {}, { MESHWARD_KEK: 'a wrong key-encryption key!!' })), (err: unknown) => {
    assert.ok(err instanceof ServerError);
    assert.equal(err.code, 'ERR_SERVER_CA');
    assert.match(err.message, /wrong key-encryption key/);
    assert.ok(!err.message.includes(kek));
    return true;
  });
  await assert.rejects(startServer(testConfig(dataDir)), /is encrypted; give the key-encryption key/);
  // A KEK file works the same.
  const kekFile = join(dataDir, '..', 'kek');
  writeFileSync(kekFile, `${kek}\n`, { mode: 0o600 });
  const second = await startServer(testConfig(dataDir, { kek_file: kekFile }));
  t.after(() => second.close());
  assert.deepEqual(second.ctx.ca.bundle().x509Authorities(), bundle1.x509Authorities());
});

test('admin socket: mode 0600, a stale socket file is replaced, a live one refused', async (t) => {
  const dataDir = join(tempDir(t), 'data');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(dataDir, { mode: 0o700 });
  // A stale socket: bound once, its server gone.
  const stalePath = join(dataDir, 'admin.sock');
  const stale = createServer();
  await new Promise<void>((r) => stale.listen(stalePath, r));
  // Keep the file: close the listener without unlinking (node unlinks on close; recreate a dangling file instead).
  await new Promise<void>((r) => stale.close(() => r()));
  const sock = createServer();
  await new Promise<void>((r) => sock.listen(stalePath, r));
  sock.unref();
  // `sock` is live now: a server must refuse.
  await assert.rejects(startServer(testConfig(dataDir)), /another server is listening/);
  await new Promise<void>((r) => sock.close(() => r()));
  const server = await startServer(testConfig(dataDir));
  t.after(() => server.close());
  assert.equal(statSync(server.adminSocket).mode & 0o777, 0o600);
  const { adminCall } = await import('./support/runtime.js');
  const r = await adminCall(server, 'GET', '/v1/agents');
  assert.equal(r.status, 200);
  // The agent API is not on the admin socket.
  const a = await adminCall(server, 'GET', '/agent/v1/entries');
  assert.equal(a.status, 404);
});

test('health: /live and /ready', async (t) => {
  const server = await startTestServer(t);
  const live = await request(`${server.urls.health}/live`);
  assert.equal(live.statusCode, 200);
  await live.body.dump();
  const ready = await request(`${server.urls.health}/ready`);
  assert.equal(ready.statusCode, 200);
  assert.deepEqual(await ready.body.json(), { status: 'ready' });
  const other = await request(`${server.urls.health}/v1/agents`);
  assert.equal(other.statusCode, 404);
  await other.body.dump();
});

test('the server SVID is spiffe://TD/meshward/server and rotates in place', async (t) => {
  const server = await startTestServer(t);
  const agent = await attest(server);
  t.after(() => agent.dispatcher.close());
  const before = server.internals.identity.current;
  assert.equal(before.spiffeId, `spiffe://${TD}/meshward/server`);
  server.internals.identity.rotate();
  const after = server.internals.identity.current;
  assert.notEqual(after.serialNumber, before.serialNumber);
  // New connections see the new certificate.
  const { connect } = await import('node:tls');
  const serial = await new Promise<string>((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port: server.ports.api, ca: server.ctx.ca.bundle().toPem(), checkServerIdentity: () => undefined });
    s.once('secureConnect', () => {
      resolve(s.getPeerCertificate().serialNumber.toLowerCase());
      s.destroy();
    });
    s.once('error', reject);
  });
  assert.equal(serial.replace(/^0+/, ''), after.serialNumber.replace(/^0+/, ''));
  const r = await call(server, agent.dispatcher, 'GET', '/agent/v1/entries');
  assert.equal(r.status, 200);
});
