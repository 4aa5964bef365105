/** `meshward healthcheck`: is the server up and ready? Exit 0 when healthy, 1 when not. */
import type { Command } from 'commander';
import { request } from 'undici';
import { CheckFailedError } from './usage-error.js';

export function registerHealthcheckCommand(program: Command): void {
  program.command('healthcheck')
    .description("ask the server's health listener whether it is ready")
    .option('--health-bind <host:port>', 'the health listener (env MESHWARD_HEALTH_BIND)', process.env.MESHWARD_HEALTH_BIND ?? '127.0.0.1:8082')
    .option('--shallow', 'only check that the process is alive (/live)')
    .action(async (flags: { healthBind: string; shallow?: boolean }) => {
      const path = flags.shallow ? '/live' : '/ready';
      let status: number;
      try {
        const response = await request(`http://${flags.healthBind}${path}`, { headersTimeout: 5000, bodyTimeout: 5000 });
        await response.body.dump();
        status = response.statusCode;
      } catch (err) {
        throw new CheckFailedError(`server is unhealthy: cannot reach ${flags.healthBind} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
      }
      if (status !== 200) throw new CheckFailedError(`server is unhealthy: ${path} answered ${status}`);
      process.stdout.write(`Server is healthy.\n`);
    });
}
