/**
 * `startServer(config)`: assembles the running server.
 *
 *   datastore ─► change feed (200 ms) ─► entry index, agent cache, revocations, bundle, watch streams
 *   CA (DATA/ca) ─► server SVID ─► server API (HTTPS, TLS 1.3): /agent/v1/… and /v1/…
 *   admin socket (DATA/admin.sock, 0600): /v1/…        health listener: /live, /ready
 *
 * A datastore that cannot be reached at start is a ServerError
 * (`ERR_SERVER_DATASTORE_UNAVAILABLE`): the CLI prints it and exits 1. Once
 * running, a datastore outage makes `/ready` fail and requests that need the
 * store answer 503; nothing crashes, and everything resumes when it returns.
 */
import { mkdirSync, statSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import pino, { type Logger } from 'pino';
import type { Datastore } from '../store/datastore.js';
import { openDatastore } from '../store/open-datastore.js';
import { adminRoutes } from './admin/index.js';
import { clearStaleSocket, removeSocket, restrictSocket } from './admin-socket.js';
import { AgentCache } from './agent-cache.js';
import { AuditWriter } from './audit-writer.js';
import { agentRoutes, WatchHub } from './agent-api/index.js';
import { ChangeFeed } from './change-feed.js';
import { datastoreLabel, type ServerConfig } from './config.js';
import { MemoryEntryIndex } from './entry-index.js';
import { startFederation, type Federation } from './federation/index.js';
import { healthApp } from './health.js';
import { quietRequests } from './quiet-logs.js';
import { errorReply, sendError } from './http-errors.js';
import { RateLimits } from './rate-limits.js';
import { loadReplicaId } from './replica-id.js';
import { RevocationCache } from './revocation-cache.js';
import { ServerCaManager } from './server-ca.js';
import type { Caller, ServerContext } from './server-context.js';
import { ServerError } from './server-error.js';
import { ServerIdentity, serverSpiffeId } from './server-identity.js';
import { createTlsServer, TlsPeerAuthenticator } from './tls-listener.js';
import { writeThrough } from './write-through.js';
import { epochSeconds } from '../duration.js';

/** Request bodies: 1 MiB (a batch of entries: 16 MiB, set by the admin routes). */
export const BODY_LIMIT = 1024 * 1024;
export const BATCH_BODY_LIMIT = 16 * 1024 * 1024;
const HOUSEKEEPING_MS = 10 * 60_000;

export interface StartServerOptions {
  /** A logger to use instead of one built from `config.logLevel` (writing to stderr). */
  readonly log?: Logger;
  readonly clock?: () => Date;
}

export interface RunningServer {
  readonly ctx: ServerContext;
  /** Actual ports (useful with port 0). */
  readonly ports: { readonly api: number; readonly health: number };
  readonly urls: { readonly api: string; readonly health: string };
  readonly adminSocket: string;
  readonly replicaId: string;
  /** Internals for tests and benchmarks. */
  readonly internals: { readonly audit: AuditWriter; readonly entries: MemoryEntryIndex; readonly feed: ChangeFeed; readonly ca: ServerCaManager; readonly agents: AgentCache; readonly identity: ServerIdentity };
  close(): Promise<void>;
}

export function createLogger(level: string): Logger {
  return pino(
    {
      level,
      base: { service: 'meshward-server' },
      redact: { paths: ['*.token', '*.joinToken', '*.csr', '*.key', '*.keyPem', '*.kek', '*.password', 'req.headers.authorization'], censor: '[redacted]' },
    },
    pino.destination({ fd: 2, sync: false }),
  );
}

export async function startServer(config: ServerConfig, options: StartServerOptions = {}): Promise<RunningServer> {
  const log = options.log ?? createLogger(config.logLevel);
  const clock = options.clock ?? (() => new Date());
  const nowSeconds = (): number => epochSeconds(clock());
  prepareDataDir(config.dataDir);
  const replicaId = loadReplicaId(config.dataDir);
  const cleanups: Array<() => Promise<void> | void> = [];
  const cleanup = async (): Promise<void> => {
    for (const fn of cleanups.reverse()) {
      try {
        await fn();
      } catch (err) {
        log.warn({ err: { message: (err as Error).message } }, 'error while closing');
      }
    }
    cleanups.length = 0;
  };

  try {
    const store = await openStore(config);
    cleanups.push(() => store.close());

    const ca = ServerCaManager.open({
      dir: join(config.dataDir, 'ca'),
      trustDomain: config.trustDomain,
      keyType: config.caKeyType,
      ttlSeconds: config.caTtlSeconds,
      upstreamCertFile: config.upstreamCertFile,
      upstreamKeyFile: config.upstreamKeyFile,
      kek: config.kek,
      store,
      replicaId,
      log,
      clock,
    });
    cleanups.push(() => ca.close());

    const feed = new ChangeFeed(store, log);
    cleanups.push(() => feed.close());
    const agents = new AgentCache(store);
    const revocations = new RevocationCache(store, nowSeconds);
    const serverId = serverSpiffeId(config.trustDomain).toString();
    const entries = new MemoryEntryIndex(store, {
      serverId,
      selectorsOf: (agentId) => agents.peek(agentId)?.selectors,
      now: nowSeconds,
      poll: () => feed.poll(),
    });
    const watch = new WatchHub(config.maxWatchers, agents, log);
    cleanups.push(() => watch.close());
    const limits = new RateLimits(config.rateLimits);
    cleanups.push(() => limits.close());

    await storeCall('read the datastore', async () => {
      await feed.init();
      await Promise.all([agents.load(), revocations.load(), entries.load()]);
      await ca.start();
    });
    feed.subscribe((changes) => agents.apply(changes));
    feed.subscribe((changes) => revocations.apply(changes));
    feed.subscribe((changes) => entries.apply(changes));
    feed.subscribe((changes) => ca.apply(changes));
    feed.subscribe((changes) => watch.publish(changes));
    feed.begin();

    const identity = new ServerIdentity(ca, config.trustDomain, config.defaultX509SvidTtlSeconds, log);
    identity.start();
    cleanups.push(() => identity.close());

    const authenticator = new TlsPeerAuthenticator(() => ca.bundle(), log);
    const adminSockets = new WeakSet<object>();
    const callerOf = (request: FastifyRequest): Caller => {
      const socket = request.raw.socket;
      if (adminSockets.has(socket)) return { kind: 'admin-socket' };
      if ((socket as TLSSocket | undefined)?.encrypted === true) return authenticator.callerOf(socket as TLSSocket);
      return { kind: 'anonymous', sourceIp: socket?.remoteAddress ?? '' };
    };

    const auditWriter = new AuditWriter(store, log);
    cleanups.push(() => auditWriter.close());
    const routeStore = writeThrough(store, {
      entryWritten: (e) => entries.put(e),
      entryDeleted: (e) => entries.drop(e.id),
      agentWritten: (a) => agents.put(a),
      agentDeleted: (a) => agents.drop(a.spiffeId),
      revocationsChanged: () => revocations.load(),
    });
    const ctx: ServerContext = {
      trustDomain: config.trustDomain,
      replicaId,
      store: routeStore,
      ca,
      entries,
      adminIds: new Set(config.adminIds),
      defaults: { x509SvidTtlSeconds: config.defaultX509SvidTtlSeconds, jwtSvidTtlSeconds: config.defaultJwtSvidTtlSeconds },
      log,
      now: clock,
      callerOf,
      audit: (record) => auditWriter.write({ ...record, time: nowSeconds() }),
    };

    // Server API: HTTPS with the server SVID; agent routes and admin routes.
    let tlsServer: ReturnType<typeof createTlsServer> | undefined;
    const api = Fastify({
      loggerInstance: log.child({ listener: 'api' }),
      ...quietRequests(),
      bodyLimit: BODY_LIMIT,
      return503OnClosing: true,
      forceCloseConnections: true,
      serverFactory: (handler) => {
        tlsServer = createTlsServer(identity.current, handler);
        return tlsServer;
      },
    }) as unknown as FastifyInstance;
    prepareApp(api);
    await adminRoutes(api, ctx);
    await agentRoutes(api, { ctx, agents, revocations, limits, watch }, { changePosition: () => feed.position });
    cleanups.push(() => api.close());
    // Streams end first, or closing would wait for them.
    cleanups.push(() => watch.close());
    await listen('bind', () => api.listen({ host: config.bind.host, port: config.bind.port }));
    identity.onRotate((c) => tlsServer?.rotate(c));
    const apiPort = (api.server.address() as AddressInfo).port;

    // Admin socket: plain HTTP on a Unix socket, admin routes only.
    await clearStaleSocket(config.adminSocket);
    const admin = Fastify({ loggerInstance: log.child({ listener: 'admin-socket' }), ...quietRequests(), bodyLimit: BODY_LIMIT, forceCloseConnections: true }) as unknown as FastifyInstance;
    admin.server.on('connection', (socket) => adminSockets.add(socket));
    prepareApp(admin);
    await adminRoutes(admin, ctx);
    cleanups.push(() => removeSocket(config.adminSocket));
    cleanups.push(() => admin.close());
    await listen('admin_socket', () => admin.listen({ path: config.adminSocket }));
    restrictSocket(config.adminSocket);

    // Health.
    const health = healthApp({ store, caLoaded: () => ca.authority.activeX509Authority !== undefined }, log.child({ listener: 'health' }));
    cleanups.push(() => health.close());
    await listen('health_bind', () => health.listen({ host: config.healthBind.host, port: config.healthBind.port }));
    const healthPort = (health.server.address() as AddressInfo).port;

    // Federation (bundle endpoint and foreign bundle fetches).
    const federation: Federation = await startFederation(ctx, config.federation);
    cleanups.push(() => federation.close());

    const housekeeping = setInterval(() => {
      const now = nowSeconds();
      void store.pruneJoinTokens(now).catch(() => undefined);
      void store.pruneRevocations(now).catch(() => undefined);
    }, HOUSEKEEPING_MS);
    housekeeping.unref();
    cleanups.push(() => clearInterval(housekeeping));

    const hostOf = (h: string): string => (h.includes(':') ? `[${h}]` : h);
    log.info(
      { replicaId, trustDomain: config.trustDomain.name, datastore: datastoreLabel(config.datastore), api: `${config.bind.host}:${apiPort}`, health: `${config.healthBind.host}:${healthPort}`, adminSocket: config.adminSocket },
      'meshward server started',
    );
    let closing: Promise<void> | undefined;
    return {
      ctx,
      ports: { api: apiPort, health: healthPort },
      urls: { api: `https://${hostOf(config.bind.host)}:${apiPort}`, health: `http://${hostOf(config.healthBind.host)}:${healthPort}` },
      adminSocket: config.adminSocket,
      replicaId,
      internals: { audit: auditWriter, entries, feed, ca, agents, identity },
      close: () => {
        closing ??= cleanup().then(() => log.info('meshward server stopped'));
        return closing;
      },
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

function prepareApp(app: FastifyInstance): void {
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, { status: 404, body: { error: { code: 'ERR_SERVER_NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0]}` } }, internal: false }),
  );
  app.setErrorHandler((err, _request, reply) => {
    const e = errorReply(err);
    if (e.internal) app.log.error({ err: { code: (err as { code?: string }).code, message: (err as Error).message } }, 'request failed');
    return sendError(reply, e);
  });
}

function prepareDataDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new ServerError('ERR_SERVER_DATA_DIR', 1, `cannot create the data directory ${dir} (${(err as NodeJS.ErrnoException).code ?? 'I/O error'})`);
  }
  const st = statSync(dir);
  if (!st.isDirectory()) throw new ServerError('ERR_SERVER_DATA_DIR', 1, `${dir} is not a directory`);
  if ((st.mode & 0o077) !== 0) {
    throw new ServerError('ERR_SERVER_DATA_DIR', 1, `the data directory ${dir} is accessible by group or others (mode ${(st.mode & 0o777).toString(8)}); run "chmod 700 ${dir}"`);
  }
}

async function openStore(config: ServerConfig): Promise<Datastore> {
  const label = datastoreLabel(config.datastore);
  let store: Datastore;
  try {
    store = await openDatastore(config.datastore, { dataDir: config.dataDir });
  } catch (err) {
    throw new ServerError('ERR_SERVER_DATASTORE_UNAVAILABLE', 1, `cannot open the datastore ${label}: ${(err as Error).message}`);
  }
  try {
    await store.ping();
  } catch (err) {
    await store.close().catch(() => undefined);
    throw new ServerError('ERR_SERVER_DATASTORE_UNAVAILABLE', 1, `the datastore ${label} does not answer: ${(err as Error).message}`);
  }
  return store;
}

async function storeCall<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ServerError) throw err;
    throw new ServerError('ERR_SERVER_DATASTORE_UNAVAILABLE', 1, `cannot ${what}: ${(err as Error).message}`);
  }
}

async function listen(key: string, fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    throw new ServerError('ERR_SERVER_LISTEN', 1, `cannot listen (${key}): ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}
