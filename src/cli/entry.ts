/** `meshward entry create | show | update | delete`, shaped like spire-server's. */
import type { Command } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import { withAdminClient, withAdminFlags, outputFormat, printJson, type AdminFlags } from './admin-options.js';
import { collect, entryFieldsFromFlags, readEntriesFile, selectorFlag, type EntryFlags } from './entry-flags.js';
import { formatEntry } from './entry-print.js';
import { spiffeIdFlag } from './io.js';
import { CheckFailedError, UsageError } from './usage-error.js';

type Entry = Parameters<typeof formatEntry>[0];
type CreateResult = { status: 'ok'; entry: Entry } | { status: 'error'; error: { code: string; message: string; field?: string } };

/** Entries per request in a batch create: large enough to be fast, small enough to show progress. */
const BATCH_SIZE = 200;

function entryFieldOptions(command: Command): Command {
  return command
    .option('--spiffe-id <id>', 'the SPIFFE ID of the workload (-spiffeID)')
    .option('--parent-id <id>', 'the parent: an agent, a node alias or another entry (-parentID)')
    .option('--node', 'a node alias entry: the parent is the server (-node)')
    .option('--selector <type:value>', 'a selector, e.g. unix:uid:1000 (repeatable; -selector)', collect)
    .option('--x509-svid-ttl <duration>', 'X.509-SVID lifetime (-x509SVIDTTL; seconds or 1h)')
    .option('--jwt-svid-ttl <duration>', 'JWT-SVID lifetime (-jwtSVIDTTL)')
    .option('--dns <name>', 'a DNS SAN (repeatable)', collect)
    .option('--admin', 'SVIDs of this entry may call the admin API')
    .option('--label <k=v>', 'a label (repeatable)', collect)
    .option('--federates-with <td>', 'a foreign trust domain whose bundle its workloads get (repeatable)', collect)
    .option('--hint <hint>', 'a hint for workloads with several identities')
    .option('--entry-expiry <epoch>', 'epoch seconds after which the entry no longer applies');
}

export function registerEntryCommands(program: Command): void {
  const entry = program.command('entry').description('registration entries');

  withAdminFlags(entryFieldOptions(entry.command('create').description('create one entry from flags, or many from --data FILE')))
    .option('--entry-id <id>', 'a chosen entry ID (default: random)')
    .option('--data <file>', 'JSON file {"entries": [...]} to create in batches')
    .action(async (flags: EntryFlags & AdminFlags & { data?: string }) => {
      const output = outputFormat(flags);
      if (flags.data !== undefined) return createFromFile(flags.data, flags, output);
      const fields = entryFieldsFromFlags(flags);
      for (const required of ['spiffeId', 'parentId', 'selectors'] as const) {
        if (fields[required] === undefined) throw new UsageError(`entry create needs --${required === 'spiffeId' ? 'spiffe-id' : required === 'parentId' ? 'parent-id (or --node)' : 'selector'}`);
      }
      const { results } = await withAdminClient(flags, (c) => c.call<{ results: CreateResult[] }>('POST', '/v1/entries', { entries: [fields] }));
      const result = results[0]!;
      if (result.status === 'error') throw new CheckFailedError(`failed to create the entry: ${result.error.message}${result.error.field ? ` (${result.error.field})` : ''} [${result.error.code}]`);
      if (output === 'json') printJson(result.entry);
      else process.stdout.write(formatEntry(result.entry));
    });

  withAdminFlags(entry.command('show').description('list entries, optionally filtered'))
    .option('--entry-id <id>', 'one entry by ID')
    .option('--spiffe-id <id>', 'entries with this SPIFFE ID')
    .option('--parent-id <id>', 'entries with this parent')
    .option('--selector <type:value>', 'entries whose selectors include this one (repeatable)', collect)
    .action(async (flags: AdminFlags & { entryId?: string; spiffeId?: string; parentId?: string; selector?: string[] }) => {
      const output = outputFormat(flags);
      const query = new URLSearchParams();
      if (flags.spiffeId) query.set('spiffeId', spiffeIdFlag(flags.spiffeId, '--spiffe-id').toString());
      if (flags.parentId) query.set('parentId', spiffeIdFlag(flags.parentId, '--parent-id').toString());
      for (const s of flags.selector ?? []) {
        const { type, value } = selectorFlag(s);
        query.append('selector', `${type}:${value}`);
      }
      const entries = await withAdminClient(flags, async (c) =>
        flags.entryId ? [await c.call<Entry>('GET', `/v1/entries/${encodeURIComponent(flags.entryId)}`)] : (await c.call<{ entries: Entry[] }>('GET', `/v1/entries?${query}`)).entries,
      );
      if (output === 'json') return printJson({ entries });
      process.stdout.write(`Found ${entries.length} ${entries.length === 1 ? 'entry' : 'entries'}\n`);
      for (const e of entries) process.stdout.write('\n' + formatEntry(e));
    });

  withAdminFlags(entryFieldOptions(entry.command('update').description('change fields of an entry')))
    .requiredOption('--entry-id <id>', 'the entry to update (-entryID)')
    .action(async (flags: EntryFlags & AdminFlags) => {
      const output = outputFormat(flags);
      const { entryId, ...rest } = flags;
      const fields = entryFieldsFromFlags(rest);
      if (Object.keys(fields).length === 0) throw new UsageError('entry update needs at least one field to change');
      const updated = await withAdminClient(flags, (c) => c.call<Entry>('PATCH', `/v1/entries/${encodeURIComponent(entryId!)}`, fields));
      if (output === 'json') printJson(updated);
      else process.stdout.write(formatEntry(updated));
    });

  withAdminFlags(entry.command('delete').description('delete an entry'))
    .requiredOption('--entry-id <id>', 'the entry to delete (-entryID)')
    .action(async (flags: AdminFlags & { entryId: string }) => {
      const output = outputFormat(flags);
      const deleted = await withAdminClient(flags, (c) => c.call<Entry>('DELETE', `/v1/entries/${encodeURIComponent(flags.entryId)}`));
      if (output === 'json') printJson(deleted);
      else process.stdout.write(`Deleted entry ${deleted.id} (${deleted.spiffeId})\n`);
    });
}

async function createFromFile(path: string, flags: AdminFlags, output: 'pretty' | 'json'): Promise<void> {
  const entries = readEntriesFile(path);
  const bar = process.stderr.isTTY && output === 'pretty' ? new SingleBar({ stream: process.stderr, clearOnComplete: false }, Presets.shades_classic) : undefined;
  bar?.start(entries.length, 0);
  const results: CreateResult[] = [];
  await withAdminClient(flags, async (client) => {
    for (let i = 0; i < entries.length; i += BATCH_SIZE) {
      const batch = entries.slice(i, i + BATCH_SIZE);
      const answer = await client.call<{ results: CreateResult[] }>('POST', '/v1/entries', { entries: batch });
      results.push(...answer.results);
      bar?.update(results.length);
    }
  });
  bar?.stop();
  const failed = results.filter((r) => r.status === 'error');
  if (output === 'json') printJson({ results });
  else {
    process.stdout.write(`Created ${results.length - failed.length} of ${results.length} entries\n`);
    results.forEach((r, i) => {
      if (r.status === 'error') process.stdout.write(`entries[${i}]: ${r.error.message}${r.error.field ? ` (${r.error.field})` : ''} [${r.error.code}]\n`);
    });
  }
  if (failed.length > 0) process.exitCode = 1;
}
