/**
 * The JWT bundles inbound JWT-SVID authentication validates against. The
 * proxy's X.509 source carries X.509 authorities only, so JWT authorities
 * come from their own source: the Workload API (FetchJWTBundles on the
 * identity socket, live) or, with file identity, `identity.files.jwtBundles`
 * (one SPIFFE bundle or JWKS per trust domain). Files are watched, because
 * JWT keys rotate; a file that no longer parses is logged and its last good
 * bundle kept, as the X.509 file source does.
 */
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Bundle } from '../spiffe/bundle.js';
import { BundleSet } from '../spiffe/bundle-set.js';
import type { JwtBundleSource } from '../spiffe/sources.js';
import type { TrustDomain } from '../spiffe/trust-domain.js';
import type { IdentityConfig } from './config.js';
import { ProxyError } from './proxy-error.js';

export interface ProxyJwtBundles extends JwtBundleSource {
  close(): Promise<void> | void;
}

export type JwtBundlesLog = (level: 'info' | 'warn', msg: string, fields?: Record<string, unknown>) => void;

export async function openJwtBundles(identity: IdentityConfig, log: JwtBundlesLog, timeoutMs = 30_000): Promise<ProxyJwtBundles> {
  try {
    if (identity.files) return FileJwtBundles.open(identity.files.jwtBundles ?? {}, log);
    const address = identity.socket!.includes('://') ? identity.socket! : `unix://${identity.socket}`;
    // loaded only for the Workload API: the gRPC client is a large module set
    const { JwtSource } = await import('../workload/jwt-source.js');
    return await JwtSource.create({ address, timeoutMs });
  } catch (err) {
    throw new ProxyError('ERR_PROXY_IDENTITY', `proxy: no JWT bundles for inbound.jwt: ${(err as Error).message}`, { cause: err });
  }
}

function readBundle(trustDomain: string, file: string): Bundle {
  // fromJwks: JWT authorities of a SPIFFE bundle (`use: jwt-svid`) or of a plain JWKS; X.509 keys ignored.
  return Bundle.fromJwks(readFileSync(file), trustDomain);
}

export class FileJwtBundles implements ProxyJwtBundles {
  readonly #files: Readonly<Record<string, string>>;
  readonly #log: JwtBundlesLog;
  readonly #watchers: FSWatcher[] = [];
  #bundles: BundleSet;
  #timer: NodeJS.Timeout | undefined;

  private constructor(files: Readonly<Record<string, string>>, bundles: BundleSet, log: JwtBundlesLog) {
    this.#files = files;
    this.#bundles = bundles;
    this.#log = log;
  }

  /** Reads every file now (a missing or invalid one is an error at start) and watches their directories. */
  static open(files: Readonly<Record<string, string>>, log: JwtBundlesLog): FileJwtBundles {
    const set = new BundleSet();
    for (const [td, file] of Object.entries(files)) {
      try {
        set.set(readBundle(td, file));
      } catch (err) {
        throw new Error(`${file} (${td}): ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
    }
    const source = new FileJwtBundles(files, set, log);
    for (const dir of new Set(Object.values(files).map((f) => dirname(resolve(f))))) {
      // directories, not files: writers usually replace files by rename
      const w = watch(dir, { persistent: false }, () => source.#schedule());
      w.on('error', (err) => log('warn', 'JWT bundle files: watching failed', { dir, reason: err.message }));
      source.#watchers.push(w);
    }
    return source;
  }

  #schedule(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.reload(), 100);
    this.#timer.unref();
  }

  /** Reads the files again; a file that fails keeps its trust domain's last good bundle. */
  reload(): void {
    const next = new BundleSet(this.#bundles.bundles());
    for (const [td, file] of Object.entries(this.#files)) {
      try {
        const bundle = readBundle(td, file);
        const old = next.get(bundle.trustDomain);
        if (old === undefined || !old.equals(bundle)) this.#log('info', 'JWT bundle reloaded', { trustDomain: td, keys: bundle.jwtAuthorities().size });
        next.set(bundle);
      } catch (err) {
        this.#log('warn', 'JWT bundle file ignored; keeping the last good bundle', { trustDomain: td, file, reason: (err as NodeJS.ErrnoException).code ?? (err as Error).message });
      }
    }
    this.#bundles = next;
  }

  getJwtBundleForTrustDomain(trustDomain: TrustDomain): Bundle | undefined {
    return this.#bundles.getJwtBundleForTrustDomain(trustDomain);
  }

  close(): void {
    clearTimeout(this.#timer);
    for (const w of this.#watchers) w.close();
  }
}
