/**
 * A real ServerContext for route tests: a SQLite datastore in a temp
 * directory, a CertificateAuthority from src/ca, a simple EntryIndex, and a
 * `callerOf` driven by the `x-test-caller` header. That header exists ONLY in
 * this harness (`admin-socket`, `anonymous`, or `svid:<SPIFFE ID>`); the
 * real listeners establish the caller from the transport.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance, type FastifyRequest, type InjectOptions, type LightMyRequestResponse } from 'fastify';
import pino from 'pino';
import { initCaDirectory, type CertificateAuthority } from '../../../src/ca/index.js';
import { SpiffeId } from '../../../src/spiffe/spiffe-id.js';
import { TrustDomain } from '../../../src/spiffe/trust-domain.js';
import type { Datastore } from '../../../src/store/datastore.js';
import { openSqliteDatastore } from '../../../src/store/sqlite/open-sqlite.js';
import type { RegistrationEntry } from '../../../src/store/types.js';
import { adminRoutes } from '../../../src/server/admin/index.js';
import type { Caller, EntryIndex, ServerCa, ServerContext } from '../../../src/server/server-context.js';

export const CALLER_HEADER = 'x-test-caller';

export interface TestContextOptions {
  trustDomain?: string;
  adminIds?: string[];
  /** Clock for the context and the CA; default the wall clock. */
  now?: () => Date;
  x509SvidTtlSeconds?: number;
}

export interface TestContext {
  readonly ctx: ServerContext;
  readonly store: Datastore;
  readonly ca: CertificateAuthority;
  readonly dir: string;
  readonly trustDomain: string;
  close(): Promise<void>;
}

interface TestHooks {
  after(fn: () => unknown): void;
}

export function tempDir(t: TestHooks, prefix = 'meshward-server-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The caller named by the test header; anonymous when there is none. */
export function testCallerOf(request: FastifyRequest): Caller {
  const header = request.headers[CALLER_HEADER];
  const value = Array.isArray(header) ? header[0] : header;
  if (value === 'admin-socket') return { kind: 'admin-socket' };
  if (value !== undefined && value.startsWith('svid:')) return { kind: 'svid', id: SpiffeId.parse(value.slice(5)), serialNumber: '01' };
  return { kind: 'anonymous', sourceIp: request.ip };
}

export function serverCaOf(ca: CertificateAuthority): ServerCa {
  return {
    bundle: () => ca.bundle(),
    mintX509Svid: (request) => ca.mintX509Svid(request),
    mintJwtSvid: (request) => ca.mintJwtSvid(request),
  };
}

/** Entries by ID, reloaded from the store on refresh(). */
class SimpleEntryIndex implements EntryIndex {
  #entries = new Map<string, RegistrationEntry>();
  constructor(private readonly store: Datastore) {}
  authorizedEntries(agentId: SpiffeId): readonly RegistrationEntry[] {
    const id = agentId.toString();
    return [...this.#entries.values()].filter((e) => e.parentId === id);
  }
  get(entryId: string): RegistrationEntry | undefined {
    return this.#entries.get(entryId);
  }
  async refresh(): Promise<void> {
    this.#entries = new Map((await this.store.listEntries()).map((e) => [e.id, e]));
  }
}

export async function createTestContext(t: TestHooks, options: TestContextOptions = {}): Promise<TestContext> {
  const dir = tempDir(t);
  const trustDomain = options.trustDomain ?? 'example.org';
  const clock = options.now ?? (() => new Date());
  const store = await openSqliteDatastore(join(dir, 'datastore.sqlite3'));
  const ca = initCaDirectory({ dir: join(dir, 'ca'), trustDomain, clock });
  const log = pino({ level: process.env.MESHWARD_TEST_LOG ?? 'silent' });
  const ctx: ServerContext = {
    trustDomain: TrustDomain.parse(trustDomain),
    replicaId: 'test-replica',
    store,
    ca: serverCaOf(ca),
    entries: new SimpleEntryIndex(store),
    adminIds: new Set(options.adminIds ?? []),
    defaults: { x509SvidTtlSeconds: options.x509SvidTtlSeconds ?? 3600, jwtSvidTtlSeconds: 300 },
    log,
    now: clock,
    callerOf: testCallerOf,
    audit: async (record) => {
      try {
        await store.appendAudit({ ...record, time: Math.floor(clock().getTime() / 1000) });
      } catch (err) {
        log.error({ err }, 'audit failed');
      }
    },
  };
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await store.close();
  };
  t.after(close);
  return { ctx, store, ca, dir, trustDomain, close };
}

export interface AdminApp extends TestContext {
  readonly app: FastifyInstance;
  /** Injects a request as the given caller (default: the admin socket). */
  call(options: InjectOptions & { caller?: string }): Promise<LightMyRequestResponse>;
}

/** A fastify app with only the admin routes, over a real test context. */
export async function createAdminApp(t: TestHooks, options: TestContextOptions = {}): Promise<AdminApp> {
  const tc = await createTestContext(t, options);
  const app = Fastify({ logger: false });
  await adminRoutes(app, tc.ctx);
  await app.ready();
  t.after(() => app.close());
  const call = (opts: InjectOptions & { caller?: string }): Promise<LightMyRequestResponse> => {
    const { caller = 'admin-socket', headers = {}, ...rest } = opts;
    return app.inject({ ...rest, headers: { ...headers, [CALLER_HEADER]: caller } });
  };
  return { ...tc, app, call };
}
