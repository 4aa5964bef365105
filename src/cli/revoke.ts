/**
 * `meshward revoke --spiffe-id ID`: the credential-leak response in one
 * command: delete the identity's entries, ban it if it is an agent, and
 * record the revocation so agents and enforcers refuse its SVIDs.
 */
import type { Command } from 'commander';
import { withAdminClient, withAdminFlags, outputFormat, printJson, type AdminFlags } from './admin-options.js';
import { spiffeIdFlag } from './io.js';

export function registerRevokeCommand(program: Command): void {
  withAdminFlags(program.command('revoke').description('revoke an identity everywhere (entries deleted, agent banned, SVIDs refused)'))
    .requiredOption('--spiffe-id <id>', 'the identity to revoke (-spiffeID)')
    .option('--reason <text>', 'why, for the audit trail', 'revoked by an administrator')
    .action(async (flags: AdminFlags & { spiffeId: string; reason: string }) => {
      const output = outputFormat(flags);
      const spiffeId = spiffeIdFlag(flags.spiffeId, '--spiffe-id').toString();
      const answer = await withAdminClient(flags, (c) =>
        c.call<{ spiffeId: string; deletedEntries: string[]; bannedAgents: string[]; revokedSerials: string[] }>('POST', '/v1/revoke', { spiffeId, reason: flags.reason }),
      );
      if (output === 'json') return printJson(answer);
      process.stdout.write(
        `Revoked ${answer.spiffeId}\n` +
          `  entries deleted: ${answer.deletedEntries.length ? answer.deletedEntries.join(', ') : 'none'}\n` +
          `  agents banned:   ${answer.bannedAgents.length ? answer.bannedAgents.join(', ') : 'none'}\n` +
          `  SVIDs refused from now on by agents and enforcers\n`,
      );
    });
}
