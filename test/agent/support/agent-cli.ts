/** `meshward agent …` for the process tests, with main.ts's exit codes, until main.ts registers `agent run`. */
import { Command, CommanderError } from 'commander';
import { registerAgentRunCommands } from '../../../src/cli/agent.js';
import { CheckFailedError } from '../../../src/cli/usage-error.js';
import { MeshwardError } from '../../../src/errors.js';

const program = new Command('meshward').exitOverride().configureOutput({ outputError: (text, write) => write(`meshward: ${text.replace(/^error: /, '')}`) });
registerAgentRunCommands(program.command('agent'));
try {
  await program.parseAsync(process.argv.slice(2), { from: 'user' });
  process.exitCode = 0;
} catch (err) {
  if (err instanceof CommanderError) process.exitCode = err.exitCode === 0 ? 0 : 2;
  else if (err instanceof CheckFailedError) {
    process.stderr.write(`meshward: ${err.message}\n`);
    process.exitCode = 1;
  } else if (err instanceof MeshwardError) {
    process.stderr.write(`meshward: ${err.message}\n`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`meshward: unexpected failure: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = 1;
  }
}
