/**
 * `meshward bundle show | list | set | delete`: trust bundles. `show --dir`
 * reads a local CA; everything else asks the server (federated bundles are
 * the server's to keep).
 */
import type { Command } from 'commander';
import { withAdminClient, withAdminFlags, outputFormat, printJson, type AdminFlags } from './admin-options.js';
import { openCa } from './ca-dir.js';
import { oneOf, readInputFile, trustDomainFlag } from './io.js';

interface StoredBundle {
  trustDomain: string;
  document: string;
  sequence: number;
  updatedAt: number;
}

const formatFlag = (text: string) => oneOf(text, ['pem', 'spiffe'] as const, '--format');

export function registerBundleCommands(program: Command): void {
  const bundle = program.command('bundle').description('trust bundles');

  withAdminFlags(bundle.command('show').description("print the trust domain's own bundle"))
    .option('--dir <dir>', 'read the local CA in this directory instead of asking the server')
    .option('--format <format>', 'pem or spiffe (SPIFFE bundle JSON)', 'pem')
    .action(async (opts: AdminFlags & { dir?: string; format: string }) => {
      const format = formatFlag(opts.format);
      if (opts.dir !== undefined) {
        const current = openCa(opts.dir).bundle();
        process.stdout.write(format === 'pem' ? current.toPem() : JSON.stringify(current.toJSON(), null, 2) + '\n');
        return;
      }
      const text = await withAdminClient(opts, async (c) => {
        const answer = await c.call<unknown>('GET', `/v1/bundle?format=${format}`);
        return typeof answer === 'string' ? answer : JSON.stringify(answer, null, 2) + '\n';
      });
      process.stdout.write(text);
    });

  withAdminFlags(bundle.command('list').description('list federated bundles'))
    .option('--id <td>', 'only this trust domain')
    .action(async (opts: AdminFlags & { id?: string }) => {
      const output = outputFormat(opts);
      const only = opts.id === undefined ? undefined : trustDomainFlag(opts.id, '--id').name;
      const { bundles } = await withAdminClient(opts, (c) => c.call<{ bundles: StoredBundle[] }>('GET', '/v1/federated-bundles'));
      const shown = bundles.filter((b) => only === undefined || b.trustDomain === only);
      if (output === 'json') return printJson({ bundles: shown });
      process.stdout.write(`Found ${shown.length} federated ${shown.length === 1 ? 'bundle' : 'bundles'}\n`);
      for (const b of shown) process.stdout.write(`\n****************************************\n* spiffe://${b.trustDomain} (sequence ${b.sequence})\n****************************************\n${b.document}\n`);
    });

  withAdminFlags(bundle.command('set').description("set a federated trust domain's bundle"))
    .requiredOption('--id <td>', 'the foreign trust domain (name or spiffe://name)')
    .requiredOption('--path <file>', 'the bundle file')
    .option('--format <format>', 'pem or spiffe', 'pem')
    .action(async (opts: AdminFlags & { id: string; path: string; format: string }) => {
      const output = outputFormat(opts);
      const td = trustDomainFlag(opts.id, '--id');
      const format = formatFlag(opts.format);
      const text = readInputFile(opts.path, '--path').toString('utf8');
      const body = format === 'pem' ? { pem: text } : { document: text };
      const stored = await withAdminClient(opts, (c) => c.call<StoredBundle>('PUT', `/v1/federated-bundles/${encodeURIComponent(td.name)}`, body));
      if (output === 'json') printJson(stored);
      else process.stdout.write(`bundle set for spiffe://${td.name}\n`);
    });

  withAdminFlags(bundle.command('delete').description("delete a federated trust domain's bundle"))
    .requiredOption('--id <td>', 'the foreign trust domain')
    .action(async (opts: AdminFlags & { id: string }) => {
      const output = outputFormat(opts);
      const td = trustDomainFlag(opts.id, '--id');
      await withAdminClient(opts, (c) => c.call('DELETE', `/v1/federated-bundles/${encodeURIComponent(td.name)}`));
      if (output === 'json') printJson({});
      else process.stdout.write(`bundle deleted for spiffe://${td.name}\n`);
    });
}
