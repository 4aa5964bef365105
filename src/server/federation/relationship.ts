/**
 * One federation relationship: fetch the foreign bundle endpoint, store the
 * bundle under the configured trust domain when it changed, and poll again at
 * its `spiffe_refresh_hint` (floored at 30 s; 5 min without one). A failure
 * is retried at the next interval, never sooner.
 */
import { readFileSync } from 'node:fs';
import type { Dispatcher } from 'undici';
import { Bundle } from '../../spiffe/bundle.js';
import { SpiffeId } from '../../spiffe/spiffe-id.js';
import { TrustDomain } from '../../spiffe/trust-domain.js';
import type { ServerContext } from '../server-context.js';
import type { FederationRelationship } from './config.js';
import { FederationError } from './federation-error.js';
import { fetchBundle, spiffeDispatcher, webDispatcher, type FetchOptions } from './fetch-bundle.js';
import { realTimers, type Timers } from './timers.js';
import { epochSeconds } from '../../duration.js';

export const MIN_REFRESH_SECONDS = 30;
export const DEFAULT_REFRESH_SECONDS = 300;

export type RefreshOutcome =
  | { readonly status: 'stored'; readonly sequence: number; readonly nextRefreshSeconds: number }
  | { readonly status: 'unchanged'; readonly sequence: number; readonly nextRefreshSeconds: number }
  | { readonly status: 'failed'; readonly error: FederationError; readonly nextRefreshSeconds: number };

export interface RelationshipOptions extends FetchOptions {
  readonly timers?: Timers;
}

/** The poll interval a bundle asks for. */
export function refreshIntervalSeconds(hint: number | undefined): number {
  return hint === undefined || hint === 0 ? DEFAULT_REFRESH_SECONDS : Math.max(MIN_REFRESH_SECONDS, hint);
}

export class RelationshipPoller {
  readonly trustDomain: TrustDomain;
  readonly #ctx: ServerContext;
  readonly #rel: FederationRelationship;
  readonly #dispatcher: Dispatcher;
  readonly #options: RelationshipOptions;
  readonly #timers: Timers;
  readonly #initial: Bundle | undefined;
  readonly #endpointTd: TrustDomain | undefined;
  /** The latest bundle of the endpoint's trust domain, for https_spiffe verification. */
  #trust: Bundle | undefined;
  #interval = DEFAULT_REFRESH_SECONDS;
  #timer: unknown;
  #closed = false;
  #running: Promise<RefreshOutcome> | undefined;

  constructor(ctx: ServerContext, rel: FederationRelationship, options: RelationshipOptions = {}) {
    this.#ctx = ctx;
    this.#rel = rel;
    this.#options = options;
    this.#timers = options.timers ?? realTimers;
    this.trustDomain = parseTrustDomain(rel.trustDomain);
    if (this.trustDomain.name === ctx.trustDomain.name) {
      throw new FederationError('ERR_FEDERATION_CONFIG', `${rel.trustDomain} is our own trust domain; a relationship names a foreign one`);
    }
    if (rel.profile === 'https_spiffe') {
      if (rel.endpointSpiffeId === undefined) throw new FederationError('ERR_FEDERATION_CONFIG', `${rel.trustDomain}: https_spiffe needs endpoint_spiffe_id`);
      const endpointId = SpiffeId.tryParse(rel.endpointSpiffeId);
      if (endpointId === null) throw new FederationError('ERR_FEDERATION_CONFIG', `${rel.trustDomain}: endpoint_spiffe_id is not a SPIFFE ID`);
      this.#endpointTd = endpointId.trustDomain;
      this.#initial = rel.initialBundleFile === undefined ? undefined : readBundleFile(rel.initialBundleFile, endpointId.trustDomain);
      this.#dispatcher = spiffeDispatcher(endpointId.toString(), () => this.#trust ?? this.#initial, () => ctx.now());
    } else if (rel.profile === 'https_web') {
      const ca = rel.caFile === undefined ? undefined : readText(rel.caFile);
      this.#dispatcher = webDispatcher(ca);
    } else {
      throw new FederationError('ERR_FEDERATION_CONFIG', `${rel.trustDomain}: unknown profile ${String(rel.profile)}`);
    }
  }

  /** First fetch now, then on schedule. */
  start(): void {
    this.#schedule(0);
  }

  /** Fetches once (joining a fetch in flight). Never throws. */
  refresh(): Promise<RefreshOutcome> {
    this.#running ??= this.#refresh().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#timers.clearTimeout(this.#timer);
    await this.#running?.catch(() => undefined);
    await this.#dispatcher.close().catch(() => undefined);
  }

  #schedule(seconds: number): void {
    if (this.#closed) return;
    this.#timers.clearTimeout(this.#timer);
    this.#timer = this.#timers.setTimeout(() => {
      void this.refresh().then((outcome) => this.#schedule(outcome.nextRefreshSeconds));
    }, seconds * 1000);
  }

  async #refresh(): Promise<RefreshOutcome> {
    const store = this.#ctx.store;
    const name = this.trustDomain.name;
    try {
      await this.#loadTrust();
      const bundle = await fetchBundle(this.#rel.bundleEndpointUrl, this.trustDomain, this.#dispatcher, this.#options);
      this.#interval = refreshIntervalSeconds(bundle.refreshHint);
      if (this.#endpointTd?.name === name) this.#trust = bundle;
      const document = JSON.stringify(bundle.toJSON());
      const stored = await store.getBundle(name);
      if (stored !== null && stored.document === document) {
        return { status: 'unchanged', sequence: stored.sequence, nextRefreshSeconds: this.#interval };
      }
      const sequence = bundle.sequence ?? (stored === null ? 1 : stored.sequence + 1);
      await store.putBundle({ trustDomain: name, document, sequence }, epochSeconds(this.#ctx.now()));
      this.#ctx.log.info({ trustDomain: name, sequence }, 'federation: stored a new bundle');
      return { status: 'stored', sequence, nextRefreshSeconds: this.#interval };
    } catch (err) {
      const error = err instanceof FederationError ? err : new FederationError('ERR_FEDERATION_FETCH', (err as Error).message, { cause: err });
      this.#ctx.log.warn({ trustDomain: name, code: error.code, err: error.message }, 'federation: bundle refresh failed; retrying at the next interval');
      return { status: 'failed', error, nextRefreshSeconds: this.#interval };
    }
  }

  /** The endpoint trust domain's bundle as stored (a previous fetch, another relationship, or `bundle set`). */
  async #loadTrust(): Promise<void> {
    if (this.#endpointTd === undefined) return;
    const stored = await this.#ctx.store.getBundle(this.#endpointTd.name);
    if (stored !== null) this.#trust = Bundle.parse(stored.document, this.#endpointTd);
  }
}

function parseTrustDomain(name: string): TrustDomain {
  try {
    return TrustDomain.parse(name);
  } catch (err) {
    throw new FederationError('ERR_FEDERATION_CONFIG', `invalid trust domain ${JSON.stringify(name)}: ${(err as Error).message}`);
  }
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new FederationError('ERR_FEDERATION_CONFIG', `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** A bundle file: SPIFFE bundle JSON, or PEM CA certificates. */
export function readBundleFile(path: string, td: TrustDomain): Bundle {
  const text = readText(path);
  try {
    return text.trimStart().startsWith('{') ? Bundle.parse(text, td) : Bundle.fromX509Pem(text, td);
  } catch (err) {
    throw new FederationError('ERR_FEDERATION_CONFIG', `${path} is not a valid bundle for ${td.name}: ${(err as Error).message}`);
  }
}
