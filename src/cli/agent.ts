/**
 * `meshward agent run` and `meshward agent healthcheck`, added to the
 * `agent` command group (which also holds list/ban/evict, agent-admin.ts).
 * Exit codes: 2 invalid configuration (naming the key), 1 the agent cannot
 * start (refused join token, server refused the stored SVID), 0 after a
 * clean stop on SIGINT/SIGTERM.
 */
import type { Command } from 'commander';
import { request } from 'undici';
import { startAgent } from '../agent/agent.js';
import { AgentError } from '../agent/agent-error.js';
import { AGENT_CONFIG_KEYS, loadAgentConfig, type AgentConfigKey } from '../agent/config.js';
import { CheckFailedError } from './usage-error.js';

export function registerAgentRunCommands(agentCommand: Command): void {
  const run = agentCommand
    .command('run')
    .description('run the agent: attest to the server, keep workload SVIDs fresh, serve the SPIFFE Workload API')
    .option('--config <file>', 'YAML configuration file (keys as below, e.g. server_urls, trust_bundle_path)');
  for (const [key, flag, def, description] of AGENT_CONFIG_KEYS) {
    run.option(`--${flag} <value>`, `${description}${def === undefined ? '' : ` (default ${def})`}; YAML ${key}`);
  }
  run.action(async (opts: Record<string, string | undefined>) => {
    const flags: Partial<Record<AgentConfigKey, string>> = {};
    for (const [key, flag] of AGENT_CONFIG_KEYS) {
      const v = opts[camel(flag)];
      if (typeof v === 'string') flags[key] = v;
    }
    const config = loadAgentConfig({ ...(opts.config === undefined ? {} : { configFile: opts.config }), flags });
    let agent;
    try {
      agent = await startAgent(config);
    } catch (err) {
      if (err instanceof AgentError && err.code !== 'ERR_AGENT_CONFIG_INVALID') throw new CheckFailedError(err.message);
      throw err;
    }
    process.stdout.write(
      `meshward agent running: ${agent.identity.svid!.id.toString()}\n` +
        `  Workload API  unix://${agent.socketPath}\n` +
        `  export SPIFFE_ENDPOINT_SOCKET=unix://${agent.socketPath}\n` +
        (agent.healthUrl ? `  health        ${agent.healthUrl}/live  ${agent.healthUrl}/ready\n` : '') +
        (agent.metricsUrl ? `  metrics       ${agent.metricsUrl}/metrics\n` : ''),
    );
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    process.stdout.write('meshward agent stopping\n');
    await agent.close();
  });

  agentCommand
    .command('healthcheck')
    .description("ask a running agent's health listener whether it is ready (exit 0) or not (exit 1)")
    .option('--health-bind <host:port>', 'the agent health listener', '127.0.0.1:8083')
    .option('--shallow', 'only check that the agent is alive (/live)')
    .action(async (opts: { healthBind: string; shallow?: boolean }) => {
      const path = opts.shallow ? '/live' : '/ready';
      let status: number;
      let body = '';
      try {
        const res = await request(`http://${opts.healthBind}${path}`, { headersTimeout: 5000, bodyTimeout: 5000 });
        status = res.statusCode;
        body = await res.body.text();
      } catch (err) {
        throw new CheckFailedError(`agent is unhealthy: cannot reach http://${opts.healthBind}${path}: ${(err as Error).message}`);
      }
      if (status !== 200) throw new CheckFailedError(`agent is unhealthy (HTTP ${status}): ${body.trim()}`);
      process.stdout.write('Agent is healthy.\n');
    });
}

function camel(flag: string): string {
  return flag.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
}
