/** End to end: the admin routes as the real server mounts them, over the real admin socket (plain HTTP on a Unix socket). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request } from 'undici';
import pino from 'pino';
import { loadServerConfig } from '../../../src/server/config.js';
import { startServer } from '../../../src/server/server.js';
import { tempDir } from '../helpers/context.js';

test('over the admin socket: create an entry, generate a join token, revoke; every action audited as local-admin-socket', async (t) => {
  const dir = tempDir(t);
  const config = loadServerConfig({ env: {}, cwd: dir, flags: { trust_domain: 'e2e.test', data_dir: dir, bind: '127.0.0.1:0', health_bind: '127.0.0.1:0' } });
  const server = await startServer(config, { log: pino({ level: 'silent' }) });
  t.after(() => server.close());
  const dispatcher = new Agent({ connect: { socketPath: server.adminSocket } });
  t.after(() => dispatcher.close());
  const call = async (method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; json: any }> => {
    const res = await request(`http://localhost${path}`, {
      dispatcher,
      method,
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    return { status: res.statusCode, json: await res.body.json() };
  };

  const created = await call('POST', '/v1/entries', { entries: [{ spiffeId: 'spiffe://e2e.test/web', parentId: 'spiffe://e2e.test/nodes/a', selectors: [{ type: 'unix', value: 'uid:1000' }] }] });
  assert.equal(created.status, 200, JSON.stringify(created.json));
  assert.equal(created.json.results[0].status, 'ok');
  const invalid = await call('POST', '/v1/entries', { entries: [{ spiffeId: 'spiffe://e2e.test/x', parentId: 'spiffe://e2e.test/nodes/a', selectors: [{ type: '', value: 'v' }] }] });
  assert.equal(invalid.status, 400);
  assert.equal(invalid.json.error.field, 'entries[0].selectors[0]');
  const token = await call('POST', '/v1/join-tokens', { aliasSpiffeId: 'spiffe://e2e.test/nodes/a' });
  assert.equal(token.status, 200);
  assert.match(token.json.agentSpiffeId, /^spiffe:\/\/e2e\.test\/meshward\/agent\/join_token\//);
  const revoked = await call('POST', '/v1/revoke', { spiffeId: 'spiffe://e2e.test/web' });
  assert.deepEqual(revoked.json.deletedEntries, [created.json.results[0].entry.id]);
  const audit = await call('GET', '/v1/audit');
  const mine = (audit.json.records as Array<{ actor: string; action: string; outcome: string }>).filter((r) => r.action !== 'audit.list');
  assert.deepEqual(
    mine.map((r) => [r.actor, r.action, r.outcome]),
    [
      ['local-admin-socket', 'entry.create', 'success'],
      ['local-admin-socket', 'entry.create', 'error'],
      ['local-admin-socket', 'join_token.create', 'success'],
      ['local-admin-socket', 'revoke', 'success'],
    ],
  );
});
