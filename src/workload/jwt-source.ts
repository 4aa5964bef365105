/**
 * `await JwtSource.create({ address })`: JWT-SVIDs on demand and the JWT
 * bundles, live from the Workload API. Bundles follow the stream exactly
 * (keys added or removed take effect; an empty `keys` trusts nothing for that
 * trust domain; a trust domain that disappears is no longer trusted).
 */
import type { Bundle } from '../spiffe/bundle.js';
import type { BundleSet } from '../spiffe/bundle-set.js';
import type { JwtSvid } from '../spiffe/jwt/jwt-svid.js';
import type { JwtBundleSource } from '../spiffe/sources.js';
import type { SpiffeId } from '../spiffe/spiffe-id.js';
import type { TrustDomain } from '../spiffe/trust-domain.js';
import type { WorkloadError } from './errors.js';
import type { JwtSvidFetcher } from './jwt-auth.js';
import { LiveSource, type LiveSourceOptions } from './live-source.js';

export class JwtSource extends LiveSource implements JwtBundleSource, JwtSvidFetcher {
  protected readonly sourceName = 'JwtSource';
  #bundles: BundleSet | undefined;
  #final: WorkloadError | undefined;

  private constructor(options: LiveSourceOptions) {
    super(options);
  }

  static async create(options: LiveSourceOptions = {}): Promise<JwtSource> {
    const source = new JwtSource(options);
    source.watches.push(
      source.client.watchJwtBundles({
        onUpdate: (set) => {
          if (source.closed) return;
          source.#bundles = set;
          source.emit('update');
        },
        onError: (err, final) => {
          if (!final) return;
          source.#final = err;
          source.emit('final');
        },
      }),
    );
    await source.waitUntilReady(options, () => source.#bundles !== undefined, () => source.#final);
    return source;
  }

  /** A JWT-SVID for `audience` from the Workload API (each call asks the agent; `JwtBearer` caches). */
  async fetchJwtSvid(params: { audience: string | readonly string[]; subject?: SpiffeId | string }): Promise<JwtSvid> {
    this.checkOpen();
    return this.client.fetchJwtSvid(params);
  }

  async fetchJwtSvids(params: { audience: string | readonly string[]; subject?: SpiffeId | string }): Promise<JwtSvid[]> {
    this.checkOpen();
    return this.client.fetchJwtSvids(params);
  }

  getJwtBundleForTrustDomain(trustDomain: TrustDomain): Bundle | undefined {
    this.checkOpen();
    return this.#bundles?.getJwtBundleForTrustDomain(trustDomain);
  }

  bundles(): Bundle[] {
    this.checkOpen();
    return this.#bundles?.bundles() ?? [];
  }
}
