/**
 * `startAgent(config)`: the whole agent in one process — its identity
 * (attest or renew, renewal at half-life), the sync with the server (watch
 * stream + periodic full sync), the SVID rotator, the Workload API on its
 * Unix socket, health and metrics. `close()` stops everything it started.
 */
import pino, { type Logger } from 'pino';
import { KeyedTokenBuckets } from '../guard/token-bucket.js';
import { AgentError } from './agent-error.js';
import { AgentIdentity } from './agent-identity.js';
import { UnixAttestor } from './attestors/unix.js';
import { linuxProc, type ProcReader } from './attestors/proc.js';
import type { WorkloadAttestor } from './attestors/workload-attestor.js';
import type { AgentConfig } from './config.js';
import { DataDir } from './data-dir.js';
import { JwtCache } from './jwt-cache.js';
import { startLocalHttp, type LocalHttp } from './local-http.js';
import { AgentMetrics } from './metrics.js';
import { Backoff, rotateAt } from './rotation.js';
import { ServerClient } from './server-client.js';
import { SvidCache } from './svid-cache.js';
import { SvidRotator, type SignedSvid } from './svid-rotator.js';
import { Syncer } from './sync.js';
import { readTrustBundleFile } from './trust-bundle-file.js';
import { startWorkloadEndpoint, type WorkloadEndpoint } from './workload-api/endpoint.js';

export interface RunningAgent {
  readonly config: AgentConfig;
  readonly socketPath: string;
  readonly healthUrl: string | undefined;
  readonly metricsUrl: string | undefined;
  readonly identity: AgentIdentity;
  readonly cache: SvidCache;
  readonly rotator: SvidRotator;
  readonly syncer: Syncer;
  readonly metrics: AgentMetrics;
  /** How the agent got its SVID at start. */
  readonly start: 'attested' | 'renewed' | 'stored';
  ready(): boolean;
  close(): Promise<void>;
}

export interface StartAgentOptions {
  readonly logger?: Logger;
  readonly attestors?: readonly WorkloadAttestor[];
  readonly proc?: ProcReader;
  /** Give up the first attestation after this long when no server answers (default: never). */
  readonly startTimeoutMs?: number;
}

export async function startAgent(config: AgentConfig, options: StartAgentOptions = {}): Promise<RunningAgent> {
  const log = options.logger ?? pino({ level: config.logLevel, base: { component: 'agent' } }, pino.destination(2));
  const proc = options.proc ?? linuxProc;
  const dataDir = new DataDir(config.dataDir);
  const trustRoots = config.trustBundlePath === undefined ? undefined : readTrustBundleFile(config.trustBundlePath);
  const cache = new SvidCache();
  const client = new ServerClient({
    urls: config.serverUrls,
    onReachability: (up) => (up ? log.info({ server: client.currentUrl }, 'server reachable') : log.warn({ servers: config.serverUrls.length }, 'no server reachable; serving from cache')),
  });
  const identity = new AgentIdentity({ dataDir, client, trustRoots, trustDomain: config.trustDomain, joinToken: config.joinToken });
  const metrics = new AgentMetrics({
    agentSvidExpiresAt: () => identity.svid?.expiresAt.getTime(),
    minWorkloadSvidExpiresAt: () => minExpiry(cache),
    cachedSvids: () => cache.svidCount,
    entries: () => cache.entryCount,
    serverConnected: () => client.reachable,
  });
  const closers: Array<() => Promise<void> | void> = [];
  const closeAll = async (): Promise<void> => {
    for (const c of closers.reverse()) await Promise.resolve(c()).catch(() => undefined);
  };

  try {
    let syncerRef: Syncer | undefined;
    const ready = (): boolean => identity.svid !== undefined && identity.svid.expiresAt.getTime() > Date.now() && cache.bundle !== undefined && syncerRef?.disowned !== true;
    let health: LocalHttp | undefined;
    if (config.healthBind !== undefined) {
      health = await startLocalHttp(config.healthBind, {
        '/live': async () => ({ status: 200, type: 'application/json', body: '{"live":true}\n' }),
        '/ready': async () => {
          const ok = ready();
          return { status: ok ? 200 : 503, type: 'application/json', body: JSON.stringify({ ready: ok, agentSvid: identity.svid !== undefined, bundle: cache.bundle !== undefined, serverConnected: client.reachable }) + '\n' };
        },
      });
      closers.push(() => health!.close());
    }
    let metricsHttp: LocalHttp | undefined;
    if (config.metricsBind !== undefined) {
      metricsHttp = await startLocalHttp(config.metricsBind, { '/metrics': async () => ({ status: 200, type: metrics.registry.contentType, body: await metrics.registry.metrics() }) });
      closers.push(() => metricsHttp!.close());
    }

    // Identity: attest or renew; while no server answers, retry with backoff.
    const backoff = new Backoff();
    const deadline = options.startTimeoutMs === undefined ? Infinity : Date.now() + options.startTimeoutMs;
    let start: RunningAgent['start'];
    for (;;) {
      try {
        start = await identity.start();
        break;
      } catch (err) {
        if (!(err instanceof AgentError && err.code === 'ERR_AGENT_SERVER_UNREACHABLE') || Date.now() > deadline) throw err;
        const wait = backoff.next();
        log.warn({ retryInMs: wait, err: err.message }, 'cannot reach a server to attest; retrying');
        await new Promise((r) => setTimeout(r, wait));
      }
    }
    closers.push(() => identity.close());
    log.info({ spiffeId: identity.svid!.id.toString(), how: start, expiresAt: identity.svid!.expiresAt.toISOString() }, 'agent SVID ready');
    if (identity.bundle !== undefined) cache.setBundles(identity.bundle, new Map());

    const jwtCache = new JwtCache();
    const rotator = new SvidRotator({
      cache,
      batchSize: config.signBatchSize,
      sign: (requests) => client.call<{ svids: SignedSvid[] }>(identity.dispatcher, 'POST', '/agent/v1/sign', { requests }),
      onRotated: (n) => {
        metrics.rotations.inc(n);
        log.debug({ count: n }, 'workload SVIDs signed');
      },
      onError: (err) => log.warn({ err: (err as Error).message }, 'signing workload SVIDs failed; will retry'),
    });
    closers.push(() => rotator.close());
    const syncer = new Syncer({ cache, identity, client, intervalMs: config.syncIntervalMs, log });
    syncer.on('synced', (diff: { added: number; removed: number; changed: number }) => {
      rotator.kick();
      // The IDs served change only with the entries: no set of every ID every 5 s otherwise.
      if (diff.added + diff.removed + diff.changed > 0) jwtCache.retain(new Set([...cache.entries()].map((e) => e.spiffeId)));
    });
    syncer.on('disowned', () => jwtCache.retain(new Set()));
    closers.push(() => syncer.close());
    syncerRef = syncer;
    syncer.start();

    // Agent SVID renewal at (jittered) half-life; retried with backoff.
    let renewTimer: NodeJS.Timeout | undefined;
    const renewBackoff = new Backoff();
    const scheduleRenew = (delay?: number): void => {
      clearTimeout(renewTimer);
      const svid = identity.svid!;
      const at = rotateAt(Date.now(), svid.expiresAt.getTime());
      const ms = delay ?? Math.max(1000, at - Date.now());
      renewTimer = setTimeout(async () => {
        try {
          await identity.renew();
          renewBackoff.reset();
          log.info({ expiresAt: identity.svid!.expiresAt.toISOString() }, 'agent SVID renewed');
          syncer.restartWatch();
          scheduleRenew();
        } catch (err) {
          const left = Math.round((identity.svid!.expiresAt.getTime() - Date.now()) / 1000);
          log.warn({ err: (err as Error).message, secondsLeft: left }, 'agent SVID renewal failed; retrying');
          scheduleRenew(renewBackoff.next());
        }
      }, ms);
      renewTimer.unref?.();
    };
    scheduleRenew(start === 'stored' ? 1000 : undefined);
    closers.push(() => clearTimeout(renewTimer));

    // While no server answers: log the time left before the cached SVIDs expire.
    const expiryLog = setInterval(() => {
      if (client.reachable) return;
      const agentLeft = Math.round((identity.svid!.expiresAt.getTime() - Date.now()) / 1000);
      const min = minExpiry(cache);
      log.warn({ agentSvidSecondsLeft: agentLeft, workloadSvidMinSecondsLeft: min === undefined ? null : Math.round((min - Date.now()) / 1000), cachedSvids: cache.svidCount }, 'server unreachable: serving cached SVIDs until they expire');
    }, 10_000);
    expiryLog.unref();
    closers.push(() => clearInterval(expiryLog));

    const endpoint: WorkloadEndpoint = await startWorkloadEndpoint(config.socketPath, {
      cache,
      jwtCache,
      fetchJwt: (entry, audience) => client.call<{ token: string; expiresAt: number }>(identity.dispatcher, 'POST', '/agent/v1/jwt', { entryId: entry.id, audience }),
      attestors: options.attestors ?? [new UnixAttestor({ workloadSizeLimit: config.workloadSizeLimit, proc, hashWanted: () => cache.hashSelectorsWanted })],
      proc,
      limiter: new KeyedTokenBuckets({ ratePerSecond: config.rateLimit.perSecond, burst: config.rateLimit.burst, maxKeys: 65_536 }),
      metrics,
      log,
    });
    closers.push(() => endpoint.close());
    log.info({ socket: config.socketPath }, 'Workload API listening');

    return {
      config,
      socketPath: endpoint.socketPath,
      healthUrl: health?.url,
      metricsUrl: metricsHttp?.url,
      identity,
      cache,
      rotator,
      syncer,
      metrics,
      start,
      ready,
      close: closeAll,
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

function minExpiry(cache: SvidCache): number | undefined {
  let min: number | undefined;
  for (const s of cache.svids()) if (min === undefined || s.expiresAt < min) min = s.expiresAt;
  return min;
}
