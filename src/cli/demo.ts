/**
 * `meshward demo` (what `npm start` runs until the control plane exists):
 * create or reuse a CA in ./.meshward/ca, mint an X.509-SVID and a JWT-SVID,
 * verify both, and say what happened.
 */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { initCaDirectory, loadCaDirectory } from '../ca/index.js';
import { authorizeMemberOf } from '../spiffe/authorizers.js';
import { JwtSvid } from '../spiffe/jwt/jwt-svid.js';
import { SpiffeId } from '../spiffe/spiffe-id.js';
import { TrustDomain } from '../spiffe/trust-domain.js';
import { encodePem } from '../spiffe/pem.js';
import { verifyX509Svid } from '../spiffe/x509/verify.js';
import { writeFilesAtomically } from './io.js';

export function registerDemoCommand(program: Command): void {
  program.command('demo')
    .description('create a CA, mint an X.509-SVID and a JWT-SVID, and verify both')
    .option('--dir <dir>', 'data directory', '.meshward')
    .option('--trust-domain <td>', 'trust domain for a new CA', 'example.org')
    .action((opts: { dir: string; trustDomain: string }) => runDemo(opts.dir, TrustDomain.parse(opts.trustDomain)));
}

function runDemo(dataDir: string, trustDomain: TrustDomain): void {
  const say = (line: string) => process.stdout.write(line + '\n');
  const caDir = join(dataDir, 'ca');
  const fresh = !existsSync(join(caDir, 'ca.json'));
  const authority = fresh ? initCaDirectory({ dir: caDir, trustDomain }) : loadCaDirectory(caDir);
  const td = authority.bundle().trustDomain;
  const bundle = authority.bundle();
  say(`${fresh ? 'created' : 'loaded'} the CA of trust domain ${td.name} in ${caDir} (private keys 0600, directory 0700)`);

  const id = SpiffeId.fromPath(td, '/demo/web');
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const minted = authority.mintX509Svid({ spiffeId: id, publicKey });
  const outDir = join(dataDir, 'demo-svid');
  writeFilesAtomically(outDir, [
    { name: 'svid.pem', data: minted.chain.map((der) => encodePem('CERTIFICATE', der)).join(''), mode: 0o644 },
    { name: 'svid.key', data: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, mode: 0o600 },
    { name: 'bundle.pem', data: bundle.toPem(), mode: 0o644 },
  ]);
  say(`minted an X.509-SVID for ${id} (serial ${minted.serialNumber}, expires ${minted.expiresAt.toISOString()}) into ${outDir}`);

  const verified = verifyX509Svid(minted.chain, bundle);
  const allowed = authorizeMemberOf(td)(verified.id);
  say(`verified the X.509-SVID against the bundle: ${verified.id}; authorizeMemberOf(${td.name}) says ${allowed ? 'allow' : 'deny'}`);

  const token = authority.mintJwtSvid({ spiffeId: id, audience: 'demo-api' });
  say(`minted a JWT-SVID for ${id} with audience "demo-api" (${token.length} bytes; not printed: it is a bearer credential)`);
  const svid = JwtSvid.parseAndValidate(token, bundle, ['demo-api']);
  say(`validated the JWT-SVID: sub ${svid.id}, expires ${svid.expiresAt.toISOString()}`);
  try {
    JwtSvid.parseAndValidate(token, bundle, ['another-api']);
  } catch (err) {
    say(`the same token for audience "another-api" is refused: ${(err as Error).message}`);
  }
  say('');
  say('try it yourself:');
  say(`  openssl verify -CAfile ${outDir}/bundle.pem ${outDir}/svid.pem`);
  say(`  node dist/cli/bin.js svid verify --cert ${outDir}/svid.pem --bundle ${outDir}/bundle.pem`);
}
