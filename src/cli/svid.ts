/** `meshward svid verify`: check an X.509-SVID chain against a bundle. */
import type { Command } from 'commander';
import { verifyX509Svid } from '../spiffe/x509/verify.js';
import { X509SvidError } from '../spiffe/x509/x509-svid-error.js';
import { decodePemBlocks, looksLikePem } from '../spiffe/pem.js';
import { ParsedCertificate, splitDerCertificates } from '../spiffe/x509/certificate.js';
import { readBundleFile } from './bundle-file.js';
import { oneOf, readInputFile, spiffeIdFlag } from './io.js';
import { CheckFailedError, UsageError } from './usage-error.js';

export function registerSvidCommands(program: Command): void {
  const svid = program.command('svid').description('X.509-SVID checks');
  svid.command('verify')
    .description('verify an X.509-SVID chain (leaf first) against a trust bundle; exit 0 when valid, 1 when not')
    .requiredOption('--cert <file>', 'the SVID certificate chain, PEM or DER, leaf first')
    .requiredOption('--bundle <file>', 'the trust bundle, PEM or SPIFFE bundle JSON')
    .option('--trust-domain <td>', "the bundle's trust domain (default: named by its authorities' URI SAN)")
    .option('--spiffe-id <id>', 'also require this exact SPIFFE ID')
    .option('--output <format>', 'text or json', 'text')
    .action((opts: { cert: string; bundle: string; trustDomain?: string; spiffeId?: string; output: string }) => {
      const output = oneOf(opts.output, ['text', 'json'] as const, '--output');
      const expected = opts.spiffeId === undefined ? undefined : spiffeIdFlag(opts.spiffeId, '--spiffe-id');
      const chain = readChain(opts.cert);
      const bundle = readBundleFile(opts.bundle, opts.trustDomain, 'pem-or-spiffe');
      let verified;
      try {
        verified = verifyX509Svid(chain, bundle);
      } catch (err) {
        if (err instanceof X509SvidError) throw new CheckFailedError(`invalid SVID: ${err.message} (${err.code})`);
        throw err;
      }
      if (expected && !verified.id.equals(expected)) {
        throw new CheckFailedError(`invalid SVID: its SPIFFE ID is ${verified.id}, not the expected ${expected}`);
      }
      const expiresAt = ParsedCertificate.fromDer(chain[0]!).notAfter;
      if (output === 'json') {
        process.stdout.write(JSON.stringify({ spiffeId: verified.id.toString(), expiresAt: expiresAt.toISOString() }) + '\n');
      } else {
        process.stdout.write(`valid X.509-SVID\nSPIFFE ID: ${verified.id}\nexpires:   ${expiresAt.toISOString()}\n`);
      }
    });
}

function readChain(path: string): Buffer[] {
  const data = readInputFile(path, '--cert');
  try {
    if (looksLikePem(data)) {
      const certs = decodePemBlocks(data.toString('utf8')).filter((b) => b.label === 'CERTIFICATE').map((b) => b.der);
      if (certs.length === 0) throw new Error('no CERTIFICATE block found');
      return certs;
    }
    return splitDerCertificates(data);
  } catch (err) {
    throw new UsageError(`--cert ${path}: ${(err as Error).message}`);
  }
}
