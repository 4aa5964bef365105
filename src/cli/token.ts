/** `meshward token generate`: a one-time join token for an agent. */
import type { Command } from 'commander';
import { withAdminClient, withAdminFlags, outputFormat, printJson, type AdminFlags } from './admin-options.js';
import { durationFlag, spiffeIdFlag } from './io.js';

export function registerTokenCommands(program: Command): void {
  const token = program.command('token').description('join tokens for agent attestation');
  withAdminFlags(token.command('generate').description('generate a one-time join token (shown once; the server keeps only its hash)'))
    .option('--spiffe-id <alias>', 'also make the attested agent a member of this node alias (-spiffeID)')
    .option('--ttl <duration>', 'how long the token is valid', '600')
    .action(async (flags: AdminFlags & { spiffeId?: string; ttl: string }) => {
      const output = outputFormat(flags);
      const body: Record<string, unknown> = { ttlSeconds: durationFlag(flags.ttl, '--ttl') };
      if (flags.spiffeId !== undefined) body.aliasSpiffeId = spiffeIdFlag(flags.spiffeId, '--spiffe-id').toString();
      const answer = await withAdminClient(flags, (c) => c.call<{ token: string; id: string; agentSpiffeId: string; expiresAt: number }>('POST', '/v1/join-tokens', body));
      if (output === 'json') printJson(answer);
      else process.stdout.write(`Token: ${answer.token}\nAgent SPIFFE ID: ${answer.agentSpiffeId}\nExpires: ${new Date(answer.expiresAt * 1000).toISOString()}\n`);
    });
}
