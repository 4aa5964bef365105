/**
 * `await BundleSource.create({ address })`: the X.509 and JWT bundles, live
 * from the Workload API (FetchX509Bundles + FetchJWTBundles), for services
 * that verify peers but need no identity of their own for it.
 */
import type { Bundle } from '../spiffe/bundle.js';
import type { BundleSet } from '../spiffe/bundle-set.js';
import type { JwtBundleSource, X509BundleSource } from '../spiffe/sources.js';
import type { TrustDomain } from '../spiffe/trust-domain.js';
import type { WorkloadError } from './errors.js';
import { LiveSource, type LiveSourceOptions } from './live-source.js';

export class BundleSource extends LiveSource implements X509BundleSource, JwtBundleSource {
  protected readonly sourceName = 'BundleSource';
  #x509: BundleSet | undefined;
  #jwt: BundleSet | undefined;
  #final: WorkloadError | undefined;

  private constructor(options: LiveSourceOptions) {
    super(options);
  }

  static async create(options: LiveSourceOptions = {}): Promise<BundleSource> {
    const source = new BundleSource(options);
    const onError = (err: WorkloadError, final: boolean) => {
      if (!final) return;
      source.#final = err;
      source.emit('final');
    };
    source.watches.push(
      source.client.watchX509Bundles({
        onUpdate: (set) => {
          if (source.closed) return;
          source.#x509 = set;
          source.emit('update');
        },
        onError,
      }),
      source.client.watchJwtBundles({
        onUpdate: (set) => {
          if (source.closed) return;
          source.#jwt = set;
          source.emit('update');
        },
        onError,
      }),
    );
    await source.waitUntilReady(options, () => source.#x509 !== undefined && source.#jwt !== undefined, () => source.#final);
    return source;
  }

  getX509BundleForTrustDomain(trustDomain: TrustDomain): Bundle | undefined {
    this.checkOpen();
    return this.#x509?.getX509BundleForTrustDomain(trustDomain);
  }

  getJwtBundleForTrustDomain(trustDomain: TrustDomain): Bundle | undefined {
    this.checkOpen();
    return this.#jwt?.getJwtBundleForTrustDomain(trustDomain);
  }

  /** The X.509 bundles (lets `tlsClientOptions` list every trusted root). */
  bundles(): Bundle[] {
    this.checkOpen();
    return this.#x509?.bundles() ?? [];
  }
}

let shared: Promise<BundleSource> | undefined;

/** One BundleSource on `SPIFFE_ENDPOINT_SOCKET` for the process, made on first use (for `requireJwtSvid` without `bundles`). */
export function defaultBundleSource(): Promise<BundleSource> {
  shared ??= BundleSource.create().catch((err: unknown) => {
    shared = undefined;
    throw err;
  });
  return shared;
}
