/**
 * `meshward proxy run`: the sidecar, from `--config FILE` or flags alone
 * (docs/proxy.md). Exit codes: 2 for invalid configuration (naming the key),
 * 1 when it cannot start (no SVID, address in use), 0 after SIGINT/SIGTERM.
 * The ready line goes to stdout; logs (JSON) to stderr.
 */
import type { Command } from 'commander';
import { MeshwardError } from '../errors.js';
import { configFromFlags, type ProxyFlags } from '../proxy/config.js';
import { startProxy } from '../proxy/proxy.js';
import { createLogger } from '../telemetry/index.js';
import { CheckFailedError } from './usage-error.js';

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

export function registerProxyCommands(program: Command): void {
  const proxy = program.command('proxy').description('the sidecar: mTLS, authorization, limits, validation, audit and metrics for any service');
  proxy
    .command('run')
    .description('run the proxy until SIGINT/SIGTERM')
    .option('--config <file>', 'YAML configuration file; flags override its keys')
    .option('--inbound <host:port>', 'inbound mTLS listener, e.g. 127.0.0.1:15006')
    .option('--app <host:port>', 'the app behind the proxy, e.g. 127.0.0.1:8080')
    .option('--policy <file>', 'AuthorizationPolicy YAML (repeatable); without it: any caller of the local trust domain', collect)
    .option('--policy-source <source>', 'workload-api: the policies the server distributes, streamed by the agent at --socket (fails closed until the first set); exclusive with --policy')
    .option('--namespace <ns>', "this workload's namespace (policy selection)")
    .option('--label <k=v>', "this workload's labels (repeatable)", collect)
    .option('--outbound <listen=host:port=spiffe-id>', 'outbound listener to one destination (repeatable)', collect)
    .option('--metrics-bind <host:port>', '/metrics listener')
    .option('--audit-file <file>', 'hash-chained JSON Lines audit file')
    .option('--socket <address>', 'Workload API address (default SPIFFE_ENDPOINT_SOCKET)')
    .option('--mode <mode>', 'STRICT (default) or PERMISSIVE')
    .option('--tcp', 'inbound TCP mode: authorize once per connection and pipe')
    .option('--svid-cert <file>', 'identity from PEM files instead of the Workload API: certificate chain')
    .option('--svid-key <file>', 'identity from PEM files: private key')
    .option('--svid-bundle <file>', 'identity from PEM files: trust bundle')
    .action(async (flags: ProxyFlags) => {
      const config = configFromFlags(flags);
      const logger = createLogger({ name: 'proxy', level: config.logLevel, destination: process.stderr });
      let running;
      try {
        running = await startProxy(config, { log: (level, msg, fields) => logger[level](fields ?? {}, msg) });
      } catch (err) {
        if (err instanceof MeshwardError && err.code === 'ERR_PROXY_CONFIG') throw err;
        throw new CheckFailedError(`proxy cannot start: ${(err as Error).message}`);
      }
      const parts = [`meshward proxy running as ${running.id().toString()}`];
      if (running.inbound) parts.push(`inbound ${config.inbound!.listen.host}:${running.inbound.port} -> ${config.inbound!.app.host}:${config.inbound!.app.port} (${config.inbound!.protocol}, ${config.inbound!.mode})`);
      for (const [i, o] of running.outbound.entries()) parts.push(`outbound ${config.outbound[i]!.listen.host}:${o.port} -> ${o.endpoints.endpoints.join(', ')} (${config.outbound[i]!.spiffeId})`);
      if (running.metricsPort !== undefined) parts.push(`metrics http://${config.metrics!.host}:${running.metricsPort}/metrics`);
      process.stdout.write(`${parts.join('\n  ')}\n`);
      await new Promise<void>((resolve) => {
        const done = () => {
          process.off('SIGINT', done);
          process.off('SIGTERM', done);
          resolve();
        };
        process.on('SIGINT', done);
        process.on('SIGTERM', done);
      });
      await running.close();
    });
}
