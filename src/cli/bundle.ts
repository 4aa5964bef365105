/** `meshward bundle show`: the local CA's trust bundle, as PEM or SPIFFE bundle JSON. */
import type { Command } from 'commander';
import { DEFAULT_CA_DIR, openCa } from './ca-dir.js';
import { oneOf } from './io.js';

export function registerBundleCommands(program: Command): void {
  const bundle = program.command('bundle').description('trust bundles');
  bundle.command('show')
    .description("print the trust domain's bundle")
    .option('--dir <dir>', 'CA directory', DEFAULT_CA_DIR)
    .option('--format <format>', 'pem or spiffe (SPIFFE bundle JSON)', 'pem')
    .action((opts: { dir: string; format: string }) => {
      const format = oneOf(opts.format, ['pem', 'spiffe'] as const, '--format');
      const current = openCa(opts.dir).bundle();
      process.stdout.write(format === 'pem' ? current.toPem() : JSON.stringify(current.toJSON(), null, 2) + '\n');
    });
}
