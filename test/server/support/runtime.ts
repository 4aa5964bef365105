/**
 * Helpers for the runtime tests: a real server in process (real sockets,
 * real TLS, SQLite in a temp dir), clients of the agent API over mTLS, the
 * admin socket, CSRs.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, Client, request, type Dispatcher } from 'undici';
import { createCsr } from '../../../src/ca/csr-builder.js';
import { loadServerConfig, type ServerConfig } from '../../../src/server/config.js';
import { startServer, type RunningServer } from '../../../src/server/server.js';
import { authorizeId } from '../../../src/spiffe/authorizers.js';
import type { Bundle } from '../../../src/spiffe/bundle.js';
import { encodePem } from '../../../src/spiffe/pem.js';
import { X509Svid } from '../../../src/spiffe/x509/x509-svid.js';
import { MtlsAgent } from '../../../src/workload/mtls-agent.js';
import { StaticX509Source } from '../../../src/workload/static-source.js';
import type { NewEntry, RegistrationEntry } from '../../../src/store/types.js';
import { newEntry as entryWithDefaults } from '../../../src/store/new-entry.js';

export const TD = 'example.org';
export const SERVER_ID = `spiffe://${TD}/meshward/server`;

export interface Hooks {
  after(fn: () => unknown): void;
}

export function tempDir(t: Hooks, prefix = 'mw-srv-'): string {
  // Short: the admin socket path must stay under 100 bytes.
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function testConfig(dataDir: string, flags: Record<string, string> = {}, env: Record<string, string> = {}): ServerConfig {
  return loadServerConfig({
    env,
    flags: { trust_domain: TD, data_dir: dataDir, bind: '127.0.0.1:0', health_bind: '127.0.0.1:0', log_level: process.env.MESHWARD_TEST_LOG ?? 'silent', ...flags },
  });
}

export async function startTestServer(t: Hooks, options: { dataDir?: string; flags?: Record<string, string>; env?: Record<string, string> } = {}): Promise<RunningServer> {
  const dataDir = options.dataDir ?? join(tempDir(t), 'data');
  const server = await startServer(testConfig(dataDir, options.flags, options.env));
  t.after(() => server.close());
  return server;
}

export interface KeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export function newKey(): KeyPair {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' });
}

export function csrPem(key: KeyPair = newKey()): string {
  return encodePem('CERTIFICATE REQUEST', createCsr(key.privateKey, key.publicKey));
}

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
  text: string;
}

async function toResult(res: Dispatcher.ResponseData): Promise<HttpResult> {
  const text = await res.body.text();
  let body: unknown;
  try {
    body = text.length > 0 ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  return { status: res.statusCode, headers: res.headers, body, text };
}

/** A dispatcher that verifies the server's SVID against `bundle` and presents no client certificate. */
export function anonymousDispatcher(bundle: Bundle): Agent {
  return new Agent({
    connect: { ca: bundle.toPem(), minVersion: 'TLSv1.3', checkServerIdentity: () => undefined },
  });
}

/** A dispatcher presenting `svid`; verifies the server is SERVER_ID under `bundle`. */
export function svidDispatcher(svid: X509Svid, bundle: Bundle): Agent {
  return new MtlsAgent({ source: new StaticX509Source(svid, bundle), authorize: authorizeId(SERVER_ID) });
}

export async function call(server: RunningServer | string, dispatcher: Dispatcher, method: 'GET' | 'POST', path: string, body?: unknown, rawBody?: string): Promise<HttpResult> {
  const base = typeof server === 'string' ? server : server.urls.api;
  const res = await request(`${base}${path}`, {
    method,
    dispatcher,
    ...(body === undefined && rawBody === undefined ? {} : { body: rawBody ?? JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  return toResult(res);
}

/** A request on the admin socket. */
export async function adminCall(server: { readonly adminSocket: string }, method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<HttpResult> {
  const client = new Client('http://localhost', { socketPath: server.adminSocket });
  try {
    const res = await client.request({
      method,
      path,
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    return await toResult(res);
  } finally {
    await client.close();
  }
}

export async function joinToken(server: { readonly adminSocket: string }, body: Record<string, unknown> = {}): Promise<{ token: string; id: string; agentSpiffeId: string }> {
  const r = await adminCall(server, 'POST', '/v1/join-tokens', body);
  if (r.status !== 200) throw new Error(`join token: ${r.status} ${r.text}`);
  return r.body;
}

export interface AttestedTestAgent {
  svid: X509Svid;
  key: KeyPair;
  id: string;
  dispatcher: Agent;
}

/** Attests with a fresh join token (or the given one); returns the agent's SVID and an mTLS dispatcher. */
export async function attest(server: RunningServer, options: { token?: string; alias?: string } = {}): Promise<AttestedTestAgent> {
  const token = options.token ?? (await joinToken(server, options.alias === undefined ? {} : { aliasSpiffeId: options.alias })).token;
  const key = newKey();
  const bundle = server.ctx.ca.bundle();
  const anon = anonymousDispatcher(bundle);
  try {
    const r = await call(server, anon, 'POST', '/agent/v1/attest', { joinToken: token, csr: csrPem(key) });
    if (r.status !== 200) throw new Error(`attest: ${r.status} ${r.text}`);
    const svid = X509Svid.parse(r.body.chainPem, key.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
    return { svid, key, id: r.body.spiffeId, dispatcher: svidDispatcher(svid, bundle) };
  } finally {
    await anon.close();
  }
}

export function newEntry(spiffeId: string, parentId: string, extra: Partial<NewEntry> = {}): NewEntry {
  return entryWithDefaults({ spiffeId, parentId, selectors: [{ type: 'unix', value: `uid:${Math.floor(Math.random() * 1e6)}` }], ...extra });
}

/** Creates entries through the admin socket (so the whole path is exercised). */
export async function createEntries(server: { readonly adminSocket: string }, entries: Array<Partial<NewEntry> & { spiffeId: string; parentId: string }>): Promise<RegistrationEntry[]> {
  const r = await adminCall(server, 'POST', '/v1/entries', { entries: entries.map((e) => ({ selectors: [{ type: 'unix', value: `uid:${Math.floor(Math.random() * 1e6)}` }], ...e })) });
  if (r.status !== 200) throw new Error(`create entries: ${r.status} ${r.text}`);
  const out: RegistrationEntry[] = [];
  for (const res of r.body.results) {
    if (res.status !== 'ok') throw new Error(`create entry: ${JSON.stringify(res.error)}`);
    out.push(res.entry);
  }
  return out;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it returns true (at most `ms`). */
export async function eventually(fn: () => Promise<boolean> | boolean, ms = 3000, step = 50): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    if (await fn()) return true;
    if (Date.now() > end) return false;
    await sleep(step);
  }
}
