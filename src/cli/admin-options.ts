/** Flags every command that talks to the server takes, with their environment fallbacks. */
import type { Command } from 'commander';
import { AdminClient } from './admin-client.js';
import { oneOf } from './io.js';

export const DEFAULT_ADMIN_SOCKET = '.meshward/admin.sock';

export interface AdminFlags {
  adminSocket?: string;
  server?: string;
  adminSvidDir?: string;
  output: string;
}

/** Adds the connection and output flags to a command. */
export function withAdminFlags(command: Command): Command {
  return command
    .option('--admin-socket <path>', `the server's admin socket (env MESHWARD_ADMIN_SOCKET; default ${DEFAULT_ADMIN_SOCKET})`)
    .option('--server <url>', 'talk to a server over mTLS instead (env MESHWARD_SERVER), e.g. https://127.0.0.1:8081')
    .option('--admin-svid-dir <dir>', 'with --server: directory with svid.pem, svid.key, bundle.pem of an admin SVID (env MESHWARD_ADMIN_SVID_DIR)')
    .option('--output <format>', 'pretty or json', 'pretty');
}

export function outputFormat(flags: AdminFlags): 'pretty' | 'json' {
  return oneOf(flags.output === 'text' ? 'pretty' : flags.output, ['pretty', 'json'] as const, '--output');
}

export function adminClient(flags: AdminFlags): AdminClient {
  return new AdminClient({
    adminSocket: flags.adminSocket ?? process.env.MESHWARD_ADMIN_SOCKET ?? DEFAULT_ADMIN_SOCKET,
    server: flags.server ?? process.env.MESHWARD_SERVER,
    adminSvidDir: flags.adminSvidDir ?? process.env.MESHWARD_ADMIN_SVID_DIR,
  });
}

/** Runs `work` with a client and always closes it. */
export async function withAdminClient<T>(flags: AdminFlags, work: (client: AdminClient) => Promise<T>): Promise<T> {
  const client = adminClient(flags);
  try {
    return await work(client);
  } finally {
    await client.close();
  }
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}
