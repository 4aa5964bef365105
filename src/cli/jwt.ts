/** `meshward jwt mint | verify`: JWT-SVIDs from the local CA, and their validation. */
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { JwtSvid } from '../spiffe/jwt/jwt-svid.js';
import { JwtSvidError } from '../spiffe/jwt/jwt-svid-error.js';
import { openCa } from './ca-dir.js';
import { withAdminClient, withAdminFlags, type AdminFlags } from './admin-options.js';
import { readBundleFile } from './bundle-file.js';
import { collect } from './entry-flags.js';
import { durationFlag, oneOf, spiffeIdFlag } from './io.js';
import { CheckFailedError, UsageError } from './usage-error.js';


export function registerJwtCommands(program: Command): void {
  const jwt = program.command('jwt').description('JWT-SVIDs');

  withAdminFlags(jwt.command('mint'))
    .description('mint a JWT-SVID and print it on stdout (local CA with --dir, else the server)')
    .requiredOption('--spiffe-id <id>', 'the SPIFFE ID (sub)')
    .requiredOption('--audience <aud>', 'an audience (repeatable)', collect)
    .option('--ttl <duration>', 'lifetime', '5m')
    .option('--dir <dir>', 'sign with the local CA in this directory instead of asking the server')
    .action(async (opts: AdminFlags & { spiffeId: string; audience: string[]; ttl: string; dir?: string }) => {
      const spiffeId = spiffeIdFlag(opts.spiffeId, '--spiffe-id');
      if (opts.audience.some((a) => a.length === 0)) throw new UsageError('--audience: must not be empty');
      const ttlSeconds = durationFlag(opts.ttl, '--ttl');
      let token: string;
      if (opts.dir !== undefined) {
        const authority = openCa(opts.dir);
        try {
          token = authority.mintJwtSvid({ spiffeId, audience: opts.audience, ttlSeconds });
        } catch (err) {
          throw new UsageError((err as Error).message);
        }
      } else {
        const answer = await withAdminClient(opts, (c) => c.call<{ token: string }>('POST', '/v1/jwt/mint', { spiffeId: spiffeId.toString(), audience: opts.audience, ttlSeconds }));
        token = answer.token;
      }
      process.stdout.write(token + '\n');
    });

  jwt.command('verify')
    .description('validate a JWT-SVID against a SPIFFE bundle; print its claims (exit 0) or the reason (exit 1)')
    .requiredOption('--token <token>', 'the JWT-SVID, or - to read it from stdin (keeps it out of the process list)')
    .requiredOption('--bundle <file>', 'SPIFFE bundle JSON, as "bundle show --format spiffe" writes it')
    .option('--trust-domain <td>', "the bundle's trust domain (default: named by its X.509 authorities' URI SAN)")
    .requiredOption('--audience <aud>', 'the audience this verifier accepts (repeatable)', collect)
    .option('--output <format>', 'text or json', 'text')
    .action((opts: { token: string; bundle: string; trustDomain?: string; audience: string[]; output: string }) => {
      const output = oneOf(opts.output, ['text', 'json'] as const, '--output');
      if (opts.audience.some((a) => a.length === 0)) throw new UsageError('--audience: must not be empty');
      const token = opts.token === '-' ? readFileSync(0, 'utf8').trim() : opts.token;
      const bundle = readBundleFile(opts.bundle, opts.trustDomain, 'spiffe');
      let svid: JwtSvid;
      try {
        svid = JwtSvid.parseAndValidate(token, bundle, opts.audience);
      } catch (err) {
        if (err instanceof JwtSvidError) throw new CheckFailedError(`invalid JWT-SVID: ${err.message} (${err.code})`);
        throw err;
      }
      if (output === 'json') {
        process.stdout.write(JSON.stringify({ spiffeId: svid.id.toString(), expiresAt: svid.expiresAt.toISOString(), claims: svid.claims }) + '\n');
      } else {
        process.stdout.write(`valid JWT-SVID\nSPIFFE ID: ${svid.id}\nexpires:   ${svid.expiresAt.toISOString()}\nclaims:    ${JSON.stringify(svid.claims)}\n`);
      }
    });
}
