/** `meshward ca init`: create a trust domain's CA in a directory. */
import type { Command } from 'commander';
import { initCaDirectory, KEY_TYPES, type KeyType } from '../ca/index.js';
import { DEFAULT_CA_DIR } from './ca-dir.js';
import { durationFlag, oneOf, trustDomainFlag } from './io.js';
import { UsageError } from './usage-error.js';

export function registerCaCommands(program: Command): void {
  const ca = program.command('ca').description('manage a local certificate authority');
  ca.command('init')
    .description('create the CA of a trust domain (self-signed, or an intermediate under an upstream CA)')
    .requiredOption('--trust-domain <td>', 'the trust domain, e.g. example.org')
    .option('--dir <dir>', 'CA directory', DEFAULT_CA_DIR)
    .option('--key-type <type>', `CA key type (${KEY_TYPES.join(', ')})`, 'ec-p256')
    .option('--ttl <duration>', 'CA certificate lifetime', '24h')
    .option('--upstream-cert <file>', 'upstream CA certificate chain (PEM); makes this CA an intermediate')
    .option('--upstream-key <file>', 'upstream CA private key (PKCS#8 PEM)')
    .action((opts: { trustDomain: string; dir: string; keyType: string; ttl: string; upstreamCert?: string; upstreamKey?: string }) => {
      const trustDomain = trustDomainFlag(opts.trustDomain, '--trust-domain');
      const keyType = oneOf(opts.keyType, KEY_TYPES, '--key-type') as KeyType;
      const ttlSeconds = durationFlag(opts.ttl, '--ttl');
      if ((opts.upstreamCert === undefined) !== (opts.upstreamKey === undefined)) {
        throw new UsageError('--upstream-cert and --upstream-key go together');
      }
      const authority = initCaDirectory({
        dir: opts.dir,
        trustDomain,
        keyType,
        ttlSeconds,
        upstreamCertFile: opts.upstreamCert,
        upstreamKeyFile: opts.upstreamKey,
      });
      const bundle = authority.bundle();
      process.stdout.write(
        `created the CA of trust domain ${trustDomain.name} in ${opts.dir} (${keyType}, ` +
          `${bundle.x509Authorities().length} X.509 authority, ${bundle.jwtAuthorities().size} JWT key)\n`,
      );
    });
}
