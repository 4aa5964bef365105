/** `meshward x509 mint`: an X.509-SVID from the local CA, written as PEM files. */
import type { Command } from 'commander';
import { generateKeyPairSync } from 'node:crypto';
import { encodePem } from '../spiffe/pem.js';
import { DEFAULT_CA_DIR, openCa } from './ca-dir.js';
import { durationFlag, spiffeIdFlag, writeFilesAtomically } from './io.js';
import { UsageError } from './usage-error.js';

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

export function registerX509Commands(program: Command): void {
  const x509 = program.command('x509').description('X.509-SVIDs');
  x509.command('mint')
    .description('mint an X.509-SVID with a fresh ECDSA P-256 key; writes svid.pem, svid.key (0600) and bundle.pem')
    .requiredOption('--spiffe-id <id>', 'the SPIFFE ID of the workload')
    .option('--ttl <duration>', 'lifetime (capped at the CA expiry)', '1h')
    .option('--dns <name>', 'a DNS SAN (repeatable)', collect, [] as string[])
    .option('--dir <dir>', 'CA directory', DEFAULT_CA_DIR)
    .requiredOption('--out <dir>', 'output directory')
    .action((opts: { spiffeId: string; ttl: string; dns: string[]; dir: string; out: string }) => {
      const spiffeId = spiffeIdFlag(opts.spiffeId, '--spiffe-id');
      const ttlSeconds = durationFlag(opts.ttl, '--ttl');
      for (const name of opts.dns) {
        if (!/^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i.test(name) || name.length > 253) {
          throw new UsageError(`--dns: "${name}" is not a valid DNS name`);
        }
      }
      const authority = openCa(opts.dir);
      const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      let minted;
      try {
        minted = authority.mintX509Svid({ spiffeId, publicKey, ttlSeconds, dnsNames: opts.dns });
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
      writeFilesAtomically(opts.out, [
        { name: 'svid.pem', data: minted.chain.map((der) => encodePem('CERTIFICATE', der)).join(''), mode: 0o644 },
        { name: 'svid.key', data: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, mode: 0o600 },
        { name: 'bundle.pem', data: authority.bundle().toPem(), mode: 0o644 },
      ]);
      process.stdout.write(
        `minted ${spiffeId} (serial ${minted.serialNumber}, expires ${minted.expiresAt.toISOString()}) into ${opts.out}/svid.pem, svid.key, bundle.pem\n`,
      );
    });
}
