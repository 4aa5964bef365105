/**
 * `meshward server run [--config FILE] [--<key> VALUE …]`: runs the control
 * plane until SIGINT or SIGTERM. Every configuration key is also a flag
 * (config-schema.ts). Exit codes: 2 for invalid configuration (naming the
 * key), 1 when the server cannot start (datastore unreachable, CA
 * unreadable, address in use), 0 after a clean stop.
 *
 * It prints where it listens on stdout and nothing secret; logs go to stderr.
 */
import type { Command } from 'commander';
import { MeshwardError } from '../errors.js';
import { agentIdOf, createLocalJoinToken } from '../server/admin/join-tokens.js';
import { CONFIG_KEYS } from '../server/config-schema.js';
import { datastoreLabel, loadServerConfig } from '../server/config.js';
import { startServer, type RunningServer } from '../server/server.js';
import { ConfigError } from '../server/server-error.js';
import { CheckFailedError } from './usage-error.js';

export function registerServerCommands(program: Command): void {
  const server = program.command('server').description('the control plane: CA, registration entries, agent and admin APIs');
  const run = server
    .command('run')
    .description('run the server until SIGINT/SIGTERM (configuration: YAML file, then MESHWARD_* variables, then flags)')
    .option('--config <file>', 'YAML configuration file (also MESHWARD_CONFIG)')
    .option('--print-join-token', 'after start, print the admin socket and a new one-time join token for an agent (demo use)');
  for (const spec of CONFIG_KEYS) {
    run.option(`--${spec.flag} <value>`, `${spec.description}${spec.defaultText === undefined ? '' : ` (default ${spec.defaultText})`}; ${spec.env}`);
  }
  run.action(async (opts: Record<string, string | boolean | undefined>) => {
    const flags: Record<string, string> = {};
    for (const spec of CONFIG_KEYS) {
      const value = opts[camel(spec.flag)];
      if (typeof value === 'string') flags[spec.key] = value;
    }
    const config = loadServerConfig({ ...(typeof opts.config === 'string' ? { configFile: opts.config } : {}), flags });
    let running: RunningServer;
    try {
      running = await startServer(config);
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      if (err instanceof MeshwardError) throw new CheckFailedError(err.message);
      throw err;
    }
    process.stdout.write(
      `meshward server running: trust domain ${config.trustDomain.name}, replica ${running.replicaId}\n` +
        `  server API   ${running.urls.api}  (agents: /agent/v1, admins with an SVID: /v1)\n` +
        `  health       ${running.urls.health}/live  ${running.urls.health}/ready\n` +
        `  admin socket ${running.adminSocket}\n` +
        `  datastore    ${datastoreLabel(config.datastore)}\n`,
    );
    if (opts.printJoinToken === true) process.stdout.write(await firstRunBanner(running));
    await waitForSignal();
    process.stdout.write('meshward server stopping\n');
    await running.close();
  });
}

/**
 * For `npm start`: the admin socket path and a fresh one-time join token
 * (10 minutes) for the first agent, with the commands to use them. The token
 * is created like `POST /v1/join-tokens` does (only its SHA-256 is stored).
 */
export async function firstRunBanner(running: RunningServer, options: { ttlSeconds?: number } = {}): Promise<string> {
  const { ctx } = running;
  const ttl = options.ttlSeconds ?? 600;
  const { token, id } = await createLocalJoinToken(ctx, ttl, 'server run --print-join-token');
  return (
    `\nadmin socket: ${running.adminSocket}\n` +
    `  e.g. meshward entry show --admin-socket ${running.adminSocket}\n` +
    `join token for an agent (single use, expires in ${Math.round(ttl / 60)} min): ${token}\n` +
    `  the agent's SPIFFE ID will be ${agentIdOf(ctx.trustDomain.name, id)}\n\n`
  );
}

function camel(flag: string): string {
  return flag.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
}
