/**
 * `await X509Source.create({ address })`: our X.509-SVIDs and the X.509
 * bundles, live from the Workload API (go-spiffe's `workloadapi.X509Source`).
 * Resolves after the first update; emits `update` on each new snapshot;
 * keeps the last good state when a message is discarded or the agent is
 * away (SVIDs are served until they expire); stops using the SVIDs once a
 * stream ends in PermissionDenied; after `close()` every call throws.
 */
import type { Bundle } from '../spiffe/bundle.js';
import type { BundleSet } from '../spiffe/bundle-set.js';
import type { X509BundleSource, X509SvidSource } from '../spiffe/sources.js';
import type { TrustDomain } from '../spiffe/trust-domain.js';
import type { X509Svid } from '../spiffe/x509/x509-svid.js';
import { WorkloadError } from './errors.js';
import { FileX509Source, type FileX509SourceOptions } from './file-source.js';
import { LiveSource, type LiveSourceOptions } from './live-source.js';
import type { X509Context } from './workload-response.js';

export interface X509SourceOptions extends LiveSourceOptions {
  /** Picks the SVID `getX509Svid()` returns (default: the first, the default identity). */
  readonly picker?: (svids: readonly X509Svid[]) => X509Svid | undefined;
}

export class X509Source extends LiveSource implements X509SvidSource, X509BundleSource {
  protected readonly sourceName = 'X509Source';
  #context: X509Context | undefined;
  #denied = false;
  #final: WorkloadError | undefined;
  readonly #picker: X509SourceOptions['picker'];

  private constructor(options: X509SourceOptions) {
    super(options);
    this.#picker = options.picker;
  }

  static async create(options: X509SourceOptions = {}): Promise<X509Source> {
    const source = new X509Source(options);
    source.watches.push(
      source.client.watchX509Context({
        onUpdate: (ctx) => {
          if (source.closed) return;
          source.#context = ctx;
          source.#denied = false;
          source.emit('update');
        },
        onPermissionDenied: () => {
          if (source.closed || source.#denied) return;
          source.#denied = true; // the SVIDs are no longer used; bundles stay
          source.emit('update');
        },
        onError: (err, final) => {
          if (!final) return;
          source.#final = err;
          source.emit('final');
        },
      }),
    );
    await source.waitUntilReady(options, () => source.#context !== undefined, () => source.#final);
    return source;
  }

  /** A file-based source (PEM files as spiffe-helper writes them), watched for changes. */
  static fromFiles(options: FileX509SourceOptions): FileX509Source {
    return FileX509Source.open(options);
  }

  getX509Svid(): X509Svid {
    const svids = this.getX509Svids();
    const picked = this.#picker ? this.#picker(svids) : svids[0];
    if (!picked) throw new WorkloadError('ERR_WORKLOAD_NO_IDENTITY', 'X509Source: the picker chose no SVID');
    return picked;
  }

  getX509Svids(): readonly X509Svid[] {
    this.checkOpen();
    if (this.#denied) throw new WorkloadError('ERR_WORKLOAD_NO_IDENTITY', 'X509Source: the Workload API no longer issues an identity to this workload (PermissionDenied)');
    const ctx = this.#context!;
    const now = Date.now();
    const live = ctx.svids.filter((s) => s.expiresAt.getTime() > now);
    if (live.length === 0) throw new WorkloadError('ERR_WORKLOAD_NO_IDENTITY', 'X509Source: every SVID has expired and the Workload API sent no new one');
    return live;
  }

  getX509BundleForTrustDomain(trustDomain: TrustDomain): Bundle | undefined {
    this.checkOpen();
    return this.#context?.bundles.getX509BundleForTrustDomain(trustDomain);
  }

  /** Every trusted trust domain's bundle (ours and federated ones), each apart. */
  bundles(): Bundle[] {
    this.checkOpen();
    return this.#context?.bundles.bundles() ?? [];
  }

  /** The bundle set of the latest snapshot. */
  bundleSet(): BundleSet {
    this.checkOpen();
    return this.#context!.bundles;
  }
}
