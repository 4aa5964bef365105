/**
 * File-based X.509 source: PEM files as spiffe-helper (or any sidecar) writes
 * them — `svid.pem` (leaf first, then intermediates), `svid_key.pem` (PKCS#8),
 * `svid_bundle.pem` (the trust domain's CA certificates) — plus optional
 * federated bundles, one PEM file per trust domain. The directory is watched;
 * a change is read once the files settle; a set of files that does not
 * parse, does not match or does not chain is ignored (with a log line) and
 * the last good state kept.
 */
import { EventEmitter } from 'node:events';
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Bundle } from '../spiffe/bundle.js';
import { BundleSet } from '../spiffe/bundle-set.js';
import type { X509BundleSource, X509SvidSource } from '../spiffe/sources.js';
import type { TrustDomain } from '../spiffe/trust-domain.js';
import { verifyX509Svid } from '../spiffe/x509/verify.js';
import { X509Svid } from '../spiffe/x509/x509-svid.js';
import { WorkloadError } from './errors.js';
import { sdkLogger, type WorkloadLogger } from './logger.js';

export interface FileX509SourceOptions {
  readonly certFile: string;
  readonly keyFile: string;
  readonly bundleFile: string;
  /** Federated bundles: trust domain name → PEM file. */
  readonly federatedBundleFiles?: Readonly<Record<string, string>>;
  /** Watch the files (default true). */
  readonly watch?: boolean;
  /** Wait this long after the last change before reading (default 100 ms). */
  readonly settleMs?: number;
  readonly logger?: WorkloadLogger;
}

export class FileX509Source extends EventEmitter implements X509SvidSource, X509BundleSource {
  readonly #options: FileX509SourceOptions;
  readonly #log: WorkloadLogger;
  readonly #watchers: FSWatcher[] = [];
  #svid: X509Svid;
  #bundles: BundleSet;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  private constructor(options: FileX509SourceOptions, svid: X509Svid, bundles: BundleSet) {
    super();
    this.#options = options;
    this.#log = sdkLogger(options.logger);
    this.#svid = svid;
    this.#bundles = bundles;
  }

  /** Reads the files now (throws ERR_WORKLOAD_FILE_SOURCE if they are not a valid SVID) and watches them. */
  static open(options: FileX509SourceOptions): FileX509Source {
    const { svid, bundles } = readFiles(options);
    const source = new FileX509Source(options, svid, bundles);
    if (options.watch !== false) source.#watch();
    return source;
  }

  #watch(): void {
    const files = [this.#options.certFile, this.#options.keyFile, this.#options.bundleFile, ...Object.values(this.#options.federatedBundleFiles ?? {})].map((f) => resolve(f));
    for (const dir of new Set(files.map(dirname))) {
      // watch directories: writers usually replace files by rename
      const w = watch(dir, { persistent: false }, () => this.#schedule());
      w.on('error', (err) => this.#log.warn({ dir, reason: err.message }, 'file source: watching failed'));
      this.#watchers.push(w);
    }
  }

  #schedule(): void {
    if (this.#closed) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.reload(), this.#options.settleMs ?? 100);
    this.#timer.unref?.();
  }

  /** Reads the files again; returns whether the state changed. */
  reload(): boolean {
    if (this.#closed) return false;
    try {
      const { svid, bundles } = readFiles(this.#options);
      if (svid.certificates[0]!.equals(this.#svid.certificates[0]!) && sameBundles(bundles, this.#bundles)) return false;
      this.#svid = svid;
      this.#bundles = bundles;
      this.emit('update');
      return true;
    } catch (err) {
      this.#log.warn({ code: (err as WorkloadError).code, reason: (err as Error).message }, 'file source: files ignored, keeping the last good SVID');
      return false;
    }
  }

  getX509Svid(): X509Svid {
    this.#checkOpen();
    return this.#svid;
  }

  getX509BundleForTrustDomain(trustDomain: TrustDomain): Bundle | undefined {
    this.#checkOpen();
    return this.#bundles.getX509BundleForTrustDomain(trustDomain);
  }

  bundles(): Bundle[] {
    this.#checkOpen();
    return this.#bundles.bundles();
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    for (const w of this.#watchers) w.close();
    this.removeAllListeners('update');
  }

  #checkOpen(): void {
    if (this.#closed) throw new WorkloadError('ERR_WORKLOAD_SOURCE_CLOSED', 'FileX509Source is closed');
  }
}

function readFiles(options: FileX509SourceOptions): { svid: X509Svid; bundles: BundleSet } {
  try {
    const svid = X509Svid.parse(readFileSync(options.certFile, 'utf8'), readFileSync(options.keyFile, 'utf8'));
    const bundles = new BundleSet([Bundle.fromX509Pem(readFileSync(options.bundleFile, 'utf8'), svid.id.trustDomain)]);
    for (const [td, file] of Object.entries(options.federatedBundleFiles ?? {})) {
      const bundle = Bundle.fromX509Pem(readFileSync(file, 'utf8'), td);
      if (bundle.trustDomain.equals(svid.id.trustDomain)) throw new Error('a federated bundle file names our own trust domain');
      bundles.set(bundle);
    }
    verifyX509Svid(svid.certificates, bundles);
    return { svid, bundles };
  } catch (err) {
    throw new WorkloadError('ERR_WORKLOAD_FILE_SOURCE', `SVID files are not usable: ${(err as Error).message}`, { cause: err });
  }
}

function sameBundles(a: BundleSet, b: BundleSet): boolean {
  const x = a.bundles();
  const y = b.bundles();
  return x.length === y.length && x.every((bundle) => {
    const other = b.get(bundle.trustDomain);
    return other !== undefined && bundle.equals(other);
  });
}
