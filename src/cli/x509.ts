/**
 * `meshward x509 mint`: an X.509-SVID written as PEM files. With `--dir` the
 * local CA signs it; without, the server does (admin only). The key is made
 * here and never leaves this machine: the server sees only a CSR.
 */
import type { Command } from 'commander';
import { generateKeyPairSync } from 'node:crypto';
import { createCsr } from '../ca/csr-builder.js';
import { encodePem } from '../spiffe/pem.js';
import { withAdminClient, withAdminFlags, type AdminFlags } from './admin-options.js';
import { openCa } from './ca-dir.js';
import { collect } from './entry-flags.js';
import { durationFlag, spiffeIdFlag, writeFilesAtomically } from './io.js';
import { UsageError } from './usage-error.js';

const DNS_NAME = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i;

export function registerX509Commands(program: Command): void {
  const x509 = program.command('x509').description('X.509-SVIDs');
  withAdminFlags(x509.command('mint'))
    .description('mint an X.509-SVID with a fresh ECDSA P-256 key; writes svid.pem, svid.key (0600) and bundle.pem')
    .requiredOption('--spiffe-id <id>', 'the SPIFFE ID of the workload')
    .option('--ttl <duration>', 'lifetime (capped at the CA expiry)', '1h')
    .option('--dns <name>', 'a DNS SAN (repeatable)', collect)
    .option('--dir <dir>', 'sign with the local CA in this directory instead of asking the server')
    .requiredOption('--out <dir>', 'output directory')
    .action(async (opts: AdminFlags & { spiffeId: string; ttl: string; dns?: string[]; dir?: string; out: string }) => {
      const spiffeId = spiffeIdFlag(opts.spiffeId, '--spiffe-id');
      const ttlSeconds = durationFlag(opts.ttl, '--ttl');
      const dnsNames = opts.dns ?? [];
      for (const name of dnsNames) {
        if (!DNS_NAME.test(name) || name.length > 253) throw new UsageError(`--dns: "${name}" is not a valid DNS name`);
      }
      const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      let chainPem: string;
      let bundlePem: string;
      let serialNumber: string;
      let expiresAt: Date;
      if (opts.dir !== undefined) {
        const authority = openCa(opts.dir);
        let minted;
        try {
          minted = authority.mintX509Svid({ spiffeId, publicKey, ttlSeconds, dnsNames });
        } catch (err) {
          throw new UsageError((err as Error).message);
        }
        chainPem = minted.chain.map((der) => encodePem('CERTIFICATE', der)).join('');
        bundlePem = authority.bundle().toPem();
        serialNumber = minted.serialNumber;
        expiresAt = minted.expiresAt;
      } else {
        const csr = encodePem('CERTIFICATE REQUEST', createCsr(privateKey, publicKey));
        const answer = await withAdminClient(opts, (c) =>
          c.call<{ chainPem: string; bundlePem: string; serialNumber: string; expiresAt: number }>('POST', '/v1/x509/mint', { spiffeId: spiffeId.toString(), csr, ttlSeconds, dnsNames }),
        );
        ({ chainPem, bundlePem, serialNumber } = answer);
        expiresAt = new Date(answer.expiresAt * 1000);
      }
      writeFilesAtomically(opts.out, [
        { name: 'svid.pem', data: chainPem, mode: 0o644 },
        { name: 'svid.key', data: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, mode: 0o600 },
        { name: 'bundle.pem', data: bundlePem, mode: 0o644 },
      ]);
      process.stdout.write(`minted ${spiffeId} (serial ${serialNumber}, expires ${expiresAt.toISOString()}) into ${opts.out}/svid.pem, svid.key, bundle.pem\n`);
    });
}
