/** `meshward policy put | list | delete`: policies stored by the server and streamed to enforcers. */
import type { Command } from 'commander';
import { withAdminClient, withAdminFlags, outputFormat, printJson, type AdminFlags } from './admin-options.js';
import { readInputFile } from './io.js';
import { UsageError } from './usage-error.js';

export function registerPolicyServerCommands(policy: Command): void {
  withAdminFlags(policy.command('put').description('store policies from YAML files on the server (validated whole; all or nothing)'))
    .argument('<files...>', 'AuthorizationPolicy YAML files')
    .action(async (files: string[], opts: AdminFlags) => {
      const output = outputFormat(opts);
      const yaml = files.map((f) => readInputFile(f, 'policy file').toString('utf8')).join('\n---\n');
      const answer = await withAdminClient(opts, (c) => c.call<{ policies: Array<{ namespace: string; name: string; revision: number }> }>('PUT', '/v1/policies', { yaml }));
      if (output === 'json') return printJson(answer);
      for (const p of answer.policies) process.stdout.write(`stored ${p.namespace}/${p.name} (revision ${p.revision})\n`);
    });

  withAdminFlags(policy.command('list').description('list the policies the server holds'))
    .action(async (opts: AdminFlags) => {
      const output = outputFormat(opts);
      const answer = await withAdminClient(opts, (c) => c.call<{ policies: Array<{ namespace: string; name: string; revision: number; document: string }> }>('GET', '/v1/policies'));
      if (output === 'json') return printJson(answer);
      process.stdout.write(`Found ${answer.policies.length} ${answer.policies.length === 1 ? 'policy' : 'policies'}\n`);
      for (const p of answer.policies) process.stdout.write(`${p.namespace}/${p.name} (revision ${p.revision})\n`);
    });

  withAdminFlags(policy.command('delete').description('delete a stored policy'))
    .argument('<namespace/name>', 'the policy')
    .action(async (ref: string, opts: AdminFlags) => {
      const output = outputFormat(opts);
      const [namespace, name, ...rest] = ref.split('/');
      if (!namespace || !name || rest.length > 0) throw new UsageError(`policy delete: "${ref}" is not namespace/name`);
      await withAdminClient(opts, (c) => c.call('DELETE', `/v1/policies/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`));
      if (output === 'json') printJson({});
      else process.stdout.write(`deleted ${namespace}/${name}\n`);
    });
}
