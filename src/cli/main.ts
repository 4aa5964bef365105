/**
 * The `meshward` command. Each command group lives in its own file and
 * registers itself here. Exit codes: 0 success, 1 a check said no (or an
 * unexpected failure), 2 bad flags, files or configuration (nothing written).
 */
import { Command, CommanderError } from 'commander';
import { MeshwardError } from '../errors.js';
import { registerBundleCommands } from './bundle.js';
import { registerCaCommands } from './ca.js';
import { registerDemoCommand } from './demo.js';
import { registerJwtCommands } from './jwt.js';
import { registerPolicyCommands } from './policy.js';
import { registerSvidCommands } from './svid.js';
import { registerX509Commands } from './x509.js';
import { registerEntryCommands } from './entry.js';
import { registerTokenCommands } from './token.js';
import { registerAgentAdminCommands } from './agent-admin.js';
import { registerRevokeCommand } from './revoke.js';
import { registerHealthcheckCommand } from './healthcheck.js';
import { registerPolicyServerCommands } from './policy-server.js';
import { registerServerCommands } from './server.js';
import { registerAuditCommands } from './audit.js';
import { registerProxyCommands } from './proxy.js';
import { registerAgentRunCommands } from './agent.js';
import { registerUpCommand } from './up.js';
import { normalizeSpireFlags } from './spire-flags.js';
import { AdminApiError } from './admin-client.js';
import { CheckFailedError, UsageError } from './usage-error.js';

export function buildProgram(): Command {
  const program = new Command('meshward')
    .description('Zero-trust security for service-to-service calls: SPIFFE identities, mTLS, authorization, limits, audit.')
    .version('0.1.0')
    .showHelpAfterError(false)
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(`meshward: ${text.replace(/^error: /, '')}`) });
  registerServerCommands(program);
  registerCaCommands(program);
  registerX509Commands(program);
  registerJwtCommands(program);
  registerBundleCommands(program);
  registerSvidCommands(program);
  registerPolicyCommands(program);
  registerPolicyServerCommands(program.commands.find((c) => c.name() === 'policy')!);
  registerEntryCommands(program);
  registerTokenCommands(program);
  const agent = program.command('agent').description('the per-host agent and attested agents');
  registerAgentRunCommands(agent);
  registerAgentAdminCommands(agent);
  registerRevokeCommand(program);
  registerHealthcheckCommand(program);
  registerAuditCommands(program);
  registerProxyCommands(program);
  registerUpCommand(program);
  registerDemoCommand(program);
  return program;
}

/** Runs the CLI and resolves to the process exit code. */
export async function runCli(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(normalizeSpireFlags(argv), { from: 'user' });
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof AdminApiError) {
      const where = err.field ? ` (${err.field})` : '';
      process.stderr.write(`meshward: ${err.status ? `server refused (${err.status}): ` : ''}${err.message}${where} [${err.code}]\n`);
      return 1;
    }
    if (err instanceof CheckFailedError) {
      process.stderr.write(`meshward: ${err.message}\n`);
      return 1;
    }
    if (err instanceof UsageError || err instanceof MeshwardError) {
      process.stderr.write(`meshward: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`meshward: unexpected failure: ${(err as Error)?.stack ?? String(err)}\n`);
    return 1;
  }
}
