/** `meshward agent list | ban | evict`: attested agents, as the server knows them. */
import type { Command } from 'commander';
import { withAdminClient, withAdminFlags, outputFormat, printJson, type AdminFlags } from './admin-options.js';
import { spiffeIdFlag } from './io.js';

interface Agent {
  spiffeId: string;
  attestationType: string;
  serialNumber: string;
  expiresAt: number;
  banned: boolean;
}

function formatAgent(agent: Agent): string {
  return [
    `SPIFFE ID         : ${agent.spiffeId}`,
    `Attestation type  : ${agent.attestationType}`,
    `Expiration time   : ${new Date(agent.expiresAt * 1000).toISOString()}`,
    `Serial number     : ${agent.serialNumber}`,
    `Banned            : ${agent.banned}`,
  ].join('\n') + '\n';
}

/** Adds list/ban/evict to the `agent` command group (which also holds `agent run`). */
export function registerAgentAdminCommands(agent: Command): void {
  withAdminFlags(agent.command('list').description('list attested agents'))
    .action(async (flags: AdminFlags) => {
      const output = outputFormat(flags);
      const { agents } = await withAdminClient(flags, (c) => c.call<{ agents: Agent[] }>('GET', '/v1/agents'));
      if (output === 'json') return printJson({ agents });
      process.stdout.write(`Found ${agents.length} attested ${agents.length === 1 ? 'agent' : 'agents'}:\n`);
      for (const a of agents) process.stdout.write('\n' + formatAgent(a));
    });
  for (const action of ['ban', 'evict'] as const) {
    withAdminFlags(agent.command(action).description(action === 'ban' ? 'ban an agent: its SVID is refused at once, on every replica' : 'forget an agent: it must attest again with a new join token'))
      .requiredOption('--spiffe-id <id>', 'the agent (-spiffeID)')
      .action(async (flags: AdminFlags & { spiffeId: string }) => {
        const output = outputFormat(flags);
        const spiffeId = spiffeIdFlag(flags.spiffeId, '--spiffe-id').toString();
        const answer = await withAdminClient(flags, (c) => c.call<Agent>('POST', `/v1/agents/${action}`, { spiffeId }));
        if (output === 'json') printJson(answer);
        else process.stdout.write(`Agent ${action === 'ban' ? 'banned' : 'evicted'}: ${spiffeId}\n`);
      });
  }
}
