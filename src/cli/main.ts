/**
 * The `meshward` command. Each command group lives in its own file and
 * registers itself here. Exit codes: 0 success, 1 a check said no (or an
 * unexpected failure), 2 bad flags, files or configuration (nothing written).
 */
import { Command, CommanderError } from 'commander';
import { MeshwardError } from '../errors.js';
import { normalizeSpireFlags } from './spire-flags.js';
import { AdminApiError } from './admin-api-error.js';
import { CheckFailedError, UsageError } from './usage-error.js';

type Register = (program: Command) => void;

/**
 * The top-level commands in help order, each loaded only when it runs: a
 * sidecar (`proxy run`) or an agent then holds none of the server's, the
 * stores' or the other commands' modules (less memory, faster start).
 */
const COMMANDS: ReadonlyArray<readonly [string, () => Promise<Register>]> = [
  ['server', async () => (await import('./server.js')).registerServerCommands],
  ['ca', async () => (await import('./ca.js')).registerCaCommands],
  ['x509', async () => (await import('./x509.js')).registerX509Commands],
  ['jwt', async () => (await import('./jwt.js')).registerJwtCommands],
  ['bundle', async () => (await import('./bundle.js')).registerBundleCommands],
  ['svid', async () => (await import('./svid.js')).registerSvidCommands],
  [
    'policy',
    async () => {
      const [{ registerPolicyCommands }, { registerPolicyServerCommands }] = await Promise.all([import('./policy.js'), import('./policy-server.js')]);
      return (program) => {
        registerPolicyCommands(program);
        registerPolicyServerCommands(program.commands.find((c) => c.name() === 'policy')!);
      };
    },
  ],
  ['entry', async () => (await import('./entry.js')).registerEntryCommands],
  ['token', async () => (await import('./token.js')).registerTokenCommands],
  [
    'agent',
    async () => {
      const [{ registerAgentRunCommands }, { registerAgentAdminCommands }] = await Promise.all([import('./agent.js'), import('./agent-admin.js')]);
      return (program) => {
        const agent = program.command('agent').description('the per-host agent and attested agents');
        registerAgentRunCommands(agent);
        registerAgentAdminCommands(agent);
      };
    },
  ],
  ['revoke', async () => (await import('./revoke.js')).registerRevokeCommand],
  ['healthcheck', async () => (await import('./healthcheck.js')).registerHealthcheckCommand],
  ['audit', async () => (await import('./audit.js')).registerAuditCommands],
  ['proxy', async () => (await import('./proxy.js')).registerProxyCommands],
  ['up', async () => (await import('./up.js')).registerUpCommand],
  ['demo', async () => (await import('./demo.js')).registerDemoCommand],
];

/**
 * The program with every command, or only `only` when it names one (the
 * command being run); help and unknown commands get them all.
 */
export async function buildProgram(only?: string): Promise<Command> {
  const program = new Command('meshward')
    .description('Zero-trust security for service-to-service calls: SPIFFE identities, mTLS, authorization, limits, audit.')
    .version('0.1.0')
    .showHelpAfterError(false)
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(`meshward: ${text.replace(/^error: /, '')}`) });
  const chosen = COMMANDS.filter(([name]) => name === only);
  const registers = await Promise.all((chosen.length === 1 ? chosen : COMMANDS).map(([, load]) => load()));
  for (const register of registers) register(program);
  return program;
}

/** Runs the CLI and resolves to the process exit code. */
export async function runCli(argv: string[]): Promise<number> {
  try {
    const args = normalizeSpireFlags(argv);
    await (await buildProgram(args[0])).parseAsync(args, { from: 'user' });
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
