/**
 * `startProxy(config)`: assembles the sidecar from the building blocks —
 * identity source, policy engine, guards, auditor, metrics — and starts the
 * inbound listener, the outbound listeners and the metrics server.
 */
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { Counter, Gauge, Registry } from 'prom-client';
import type { Redis } from 'ioredis';
import { Auditor, openFileSink, openPostgresSink, openSqliteSink, type AuditSink } from '../audit/index.js';
import { createLimiterRedis, Lockout } from '../guard/index.js';
import { PolicyEngine, type PolicySource } from '../policy/index.js';
import { authorizeMemberOf } from '../spiffe/authorizers.js';
import type { JwtBundleSource } from '../spiffe/sources.js';
import type { SpiffeId } from '../spiffe/spiffe-id.js';
import { createProxyMetrics, startMetricsServer, type ProxyMetrics } from '../telemetry/index.js';
import type { PolicySource as DistributedPolicySource } from '../workload/policy-source.js';
import { onSourceUpdate } from '../workload/updates.js';
import { normalizeSerial, type ProxyConfig } from './config.js';
import { openIdentity, type ProxySource } from './identity.js';
import { createInboundHandler, type Authorizer } from './inbound-handler.js';
import { openJwtBundles, type ProxyJwtBundles } from './jwt-bundles.js';
import { jwtAuthentication } from './jwt-filter.js';
import { startInboundListener, type InboundListener } from './inbound-listener.js';
import { createAppForwarder, type AppForwarder } from './forward.js';
import { startOutboundListener, type OutboundListener } from './outbound.js';
import { configError } from './proxy-error.js';
import { buildRoutes } from './routes.js';
import { handleTcpConnection } from './tcp.js';

export type ProxyLog = (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;

export interface StartProxyOptions {
  /** Use this source instead of opening `config.identity` (tests, embedding). */
  readonly source?: ProxySource;
  readonly log?: ProxyLog;
  /** Audit sink to use instead of the configured one. */
  readonly auditSink?: AuditSink;
  /** JWT bundles for `inbound.jwt` instead of opening them from `config.identity`. */
  readonly jwtBundles?: JwtBundleSource;
}

export interface RunningProxy {
  readonly inbound: InboundListener | undefined;
  readonly outbound: readonly OutboundListener[];
  readonly metricsPort: number | undefined;
  readonly metrics: ProxyMetrics;
  readonly auditor: Auditor;
  readonly lockout: Lockout;
  readonly id: () => SpiffeId;
  close(): Promise<void>;
}

/** A sink that keeps nothing (no audit configured): counted as written, said at start. */
class DiscardSink implements AuditSink {
  readonly kind = 'none';
  #seq = 0;
  async append(records: readonly unknown[]): Promise<void> {
    this.#seq += records.length;
  }
  head() {
    return { seq: this.#seq, hash: '0'.repeat(64) };
  }
  async close(): Promise<void> {}
}

async function openSink(config: ProxyConfig): Promise<AuditSink | null> {
  const a = config.audit;
  if (a.file) return openFileSink(a.file);
  if (a.sqlite) return openSqliteSink(a.sqlite);
  if (a.postgres) return openPostgresSink(a.postgres, { stream: config.workload.name ?? 'proxy' });
  return null;
}

function defaultPolicy(namespace: string, trustDomain: string) {
  return [
    {
      apiVersion: 'security.istio.io/v1',
      kind: 'AuthorizationPolicy',
      metadata: { name: 'meshward-default-allow-trust-domain', namespace },
      spec: { action: 'ALLOW', rules: [{ from: [{ source: { principals: [`${trustDomain}/*`] } }] }] },
    },
  ];
}

function readPolicies(files: readonly string[]): PolicySource[] {
  return files.map((file) => {
    try {
      return { file, text: readFileSync(file, 'utf8') };
    } catch (err) {
      throw configError('policy', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  });
}

/** Policies from the server, streamed by the agent: every request is denied until the first set and while the latest is invalid. */
async function openDistributedPolicies(address: string, log: ProxyLog): Promise<DistributedPolicySource> {
  // loaded only in this mode: the gRPC client is a large module set
  const { PolicySource } = await import('../workload/policy-source.js');
  const logger = {
    debug: () => undefined,
    info: (o: object, m: string) => log('info', m, o as Record<string, unknown>),
    warn: (o: object, m: string) => log('warn', m, o as Record<string, unknown>),
    error: (o: object, m: string) => log('error', m, o as Record<string, unknown>),
  };
  const source = PolicySource.create({ address: address.includes('://') ? address : `unix://${address}`, logger });
  log('info', 'policy source: the agent (server-distributed policies); inbound denies every request until the first policy set arrives', { address });
  return source;
}

function distributedPolicyMetrics(source: DistributedPolicySource, registry: Registry): void {
  const sets = new Counter({ name: 'meshward_proxy_policy_sets_total', help: 'Policy sets received from the agent, by outcome (applied, or invalid: failed closed)', labelNames: ['outcome'], registers: [registry] });
  const failedClosed = new Gauge({ name: 'meshward_proxy_policy_fail_closed', help: '1 while inbound authorization fails closed (no policy set yet, or the latest is invalid)', registers: [registry] });
  failedClosed.set(1);
  source.on('update', (state: { status: string }) => {
    sets.inc({ outcome: state.status === 'enforcing' ? 'applied' : 'failed_closed' });
    failedClosed.set(state.status === 'enforcing' ? 0 : 1);
  });
}

function readSerials(file: string): Set<string> {
  const out = new Set<string>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const s = line.trim();
    if (s !== '' && !s.startsWith('#')) out.add(normalizeSerial(s));
  }
  return out;
}

export async function startProxy(config: ProxyConfig, options: StartProxyOptions = {}): Promise<RunningProxy> {
  const log: ProxyLog = options.log ?? (() => {});
  const source = options.source ?? (await openIdentity(config.identity));
  const svid = source.getX509Svid();
  const trustDomain = svid.id.trustDomain.name;
  const selfId = () => source.getX509Svid().id;

  // policy
  let policyEngine!: PolicyEngine;
  let distributed: DistributedPolicySource | undefined;
  const watchers: FSWatcher[] = [];
  if (config.policySource?.kind === 'workload-api') {
    distributed = await openDistributedPolicies(config.policySource.address, log);
  } else if (config.policyFiles.length > 0) {
    try {
      policyEngine = PolicyEngine.fromSources(readPolicies(config.policyFiles));
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_PROXY_CONFIG') throw err;
      throw configError('policy', (err as Error).message);
    }
    let timer: NodeJS.Timeout | undefined;
    const reload = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        try {
          policyEngine.replace(readPolicies(config.policyFiles));
          log('info', 'policies reloaded', { files: config.policyFiles });
        } catch (err) {
          log('error', 'policy reload refused; the previous set stays in force', { error: (err as Error).message });
        }
      }, 100);
    };
    for (const f of config.policyFiles) watchers.push(watch(f, reload));
  } else {
    policyEngine = PolicyEngine.fromObjects(defaultPolicy(config.workload.namespace, trustDomain));
    log('warn', `no --policy: inbound allows any caller of the local trust domain ${trustDomain} (and nobody else)`);
  }

  // revocation
  let revoked: ReadonlySet<string> = new Set(config.inbound?.revokedSerials ?? []);
  const revocationFile = config.inbound?.revocationFile;
  if (revocationFile) {
    const base = new Set(config.inbound?.revokedSerials ?? []);
    const load = () => {
      try {
        revoked = new Set([...base, ...readSerials(revocationFile)]);
      } catch (err) {
        log('error', 'cannot read the revocation file; keeping the previous list', { error: (err as Error).message });
      }
    };
    load();
    watchers.push(watch(revocationFile, () => setTimeout(load, 50)));
  }

  // telemetry
  const registry = new Registry();
  const metrics = createProxyMetrics(registry);
  if (distributed) distributedPolicyMetrics(distributed, registry);
  metrics.setSvidExpiry(svid.expiresAt);
  const unsubscribeSvid = onSourceUpdate(source, () => {
    try {
      metrics.setSvidExpiry(source.getX509Svid().expiresAt);
    } catch {
      /* no SVID right now */
    }
  });
  const svidGaugeTimer = setInterval(() => {
    try {
      metrics.setSvidExpiry(source.getX509Svid().expiresAt);
    } catch {
      /* no SVID right now */
    }
  }, 10_000);
  svidGaugeTimer.unref();

  // audit
  const sink = options.auditSink ?? (await openSink(config));
  if (sink === null) log('warn', 'no audit sink configured (--audit-file, audit.sqlite, audit.postgres): audit records are discarded');
  const auditor = new Auditor({ sink: sink ?? new DiscardSink(), flushIntervalMs: config.audit.flushIntervalMs, ...metrics.auditHooks(sink?.kind ?? 'none') });

  // guards
  const lockout = new Lockout({
    ...config.lockout,
    onLockout: (e) => {
      metrics.lockout();
      log('warn', 'source locked out after failed authentications', { source: e.source, reason: e.reason, failures: e.failures });
    },
  });
  let redis: Redis | undefined;
  const redisClient = () => {
    if (!config.redisUrl) throw configError('redisUrl', 'a route uses a Redis rate limit but MESHWARD_REDIS_URL is not set');
    redis ??= createLimiterRedis(config.redisUrl);
    return redis;
  };

  const destination = config.workload.name ?? svid.id.toString();
  let jwtBundles: ProxyJwtBundles | undefined;
  let inbound: InboundListener | undefined;
  const outbound: OutboundListener[] = [];
  let metricsServer: Awaited<ReturnType<typeof startMetricsServer>> | undefined;
  let app: AppForwarder | undefined;
  try {
    if (config.inbound) {
      const ic = config.inbound;
      const routes = buildRoutes(config.routes, { redis: redisClient, metrics, maxBodyBytes: ic.maxBodyBytes });
      const authorizer: Authorizer = distributed ?? policyEngine!;
      const policy = () => authorizer;
      const trustDomains = ic.trustDomains ?? [trustDomain];
      const members = trustDomains.map((td) => authorizeMemberOf(td));
      app = createAppForwarder(ic.app.host, ic.app.port, ic.appConnections, ic.appTimeoutMs);
      const workload = { namespace: config.workload.namespace, labels: config.workload.labels };
      let authenticate: ReturnType<typeof jwtAuthentication> | undefined;
      if (ic.jwt) {
        const bundles = options.jwtBundles ?? (jwtBundles = await openJwtBundles(config.identity, log));
        authenticate = jwtAuthentication({ config: ic.jwt, bundles, trustDomains, lockout });
        log('info', `inbound JWT-SVID authentication: audience ${ic.jwt.audience.join(', ')}, ${ic.jwt.required ? 'required' : 'optional'}, trust domains ${trustDomains.join(', ')}`);
      }
      const onRequest = createInboundHandler({ workload, destination, port: ic.listen.port, policy, routes, auditor, metrics, app, maxHeaderBytes: ic.maxHeaderBytes, authenticate });
      inbound = await startInboundListener({
        config: ic,
        source,
        authorize: (id) => members.some((m) => m(id)),
        lockout,
        metrics,
        revoked: () => revoked,
        onRequest,
        onTcp: (socket, peer) => handleTcpConnection({ workload, destination, port: ic.listen.port, policy, auditor, metrics, app: ic.app }, socket, peer),
        onAuthnFailure: (f) => {
          auditor
            .recordDenial({ kind: 'tcp', caller: f.peer, destination, source: f.source, sni: f.sni, decision: 'deny', reason: `authentication failed: ${f.reason}: ${f.detail}` })
            .catch(() => {});
        },
        onLog: (msg, fields) => log('info', msg, fields),
      });
    }
    for (const oc of config.outbound) {
      outbound.push(await startOutboundListener({ config: oc, source, self: () => selfId().toString(), auditor, metrics, onLog: (m, f) => log('info', m, f) }));
    }
    if (config.metrics) metricsServer = await startMetricsServer({ registry, host: config.metrics.host, port: config.metrics.port });
  } catch (err) {
    await inbound?.close();
    await app?.pool.destroy();
    for (const o of outbound) await o.close();
    await auditor.close().catch(() => {});
    distributed?.close();
    await jwtBundles?.close();
    throw err;
  }

  return {
    inbound,
    outbound,
    metricsPort: metricsServer?.port,
    metrics,
    auditor,
    lockout,
    id: selfId,
    close: async () => {
      for (const w of watchers) w.close();
      distributed?.close();
      unsubscribeSvid();
      clearInterval(svidGaugeTimer);
      await inbound?.close();
      await app?.pool.close();
      for (const o of outbound) await o.close();
      await new Promise<void>((r) => (metricsServer ? metricsServer.close(() => r()) : r()));
      await auditor.close().catch(() => {});
      redis?.disconnect();
      await jwtBundles?.close();
      if (!options.source) await source.close?.();
    },
  };
}
