/**
 * What the three live sources share: the client (their own, or one given),
 * the lifecycle (`create` resolves after the first update; `close()` turns
 * every later call into ERR_WORKLOAD_SOURCE_CLOSED) and the `update` event.
 */
import { EventEmitter } from 'node:events';
import { WorkloadError } from './errors.js';
import type { WorkloadLogger } from './logger.js';
import { WorkloadApiClient, type BackoffOptions, type Watch } from './workload-api-client.js';

export interface LiveSourceOptions {
  /** `unix:///path` or `tcp://IP:port`; default `SPIFFE_ENDPOINT_SOCKET`. Ignored when `client` is given. */
  readonly address?: string;
  /** Share one client between sources; it is then NOT closed by the source. */
  readonly client?: WorkloadApiClient;
  readonly logger?: WorkloadLogger;
  readonly backoff?: BackoffOptions;
  /** Give up waiting for the first update after this many ms (default: wait until `signal` aborts). */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

export abstract class LiveSource extends EventEmitter {
  protected readonly client: WorkloadApiClient;
  readonly #ownsClient: boolean;
  protected readonly watches: Watch[] = [];
  #closed = false;

  protected constructor(options: LiveSourceOptions) {
    super();
    this.client = options.client ?? new WorkloadApiClient({ address: options.address, logger: options.logger, backoff: options.backoff });
    this.#ownsClient = options.client === undefined;
  }

  protected abstract readonly sourceName: string;

  get closed(): boolean {
    return this.#closed;
  }

  protected checkOpen(): void {
    if (this.#closed) throw new WorkloadError('ERR_WORKLOAD_SOURCE_CLOSED', `${this.sourceName} is closed`);
  }

  /** Stops watching; every later call fails with ERR_WORKLOAD_SOURCE_CLOSED. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const w of this.watches) w.close();
    if (this.#ownsClient) this.client.close();
    this.removeAllListeners('update');
  }

  /** Resolves once `ready()` is true; rejects on a final error, a timeout or an abort (and closes the source). */
  protected waitUntilReady(options: LiveSourceOptions, ready: () => boolean, finalError: () => WorkloadError | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const cleanup = () => {
        if (timer) clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        this.off('update', check);
        this.off('final', check);
      };
      const fail = (err: Error) => {
        cleanup();
        void this.close();
        reject(err);
      };
      const check = () => {
        const err = finalError();
        if (err) return fail(err);
        if (ready()) {
          cleanup();
          resolve();
        }
      };
      const onAbort = () => fail(new WorkloadError('ERR_WORKLOAD_TIMEOUT', `${this.sourceName}: aborted before the first update`, { cause: options.signal?.reason }));
      if (options.signal?.aborted) return onAbort();
      options.signal?.addEventListener('abort', onAbort, { once: true });
      if (options.timeoutMs !== undefined) {
        timer = setTimeout(() => fail(new WorkloadError('ERR_WORKLOAD_TIMEOUT', `${this.sourceName}: no update from the Workload API within ${options.timeoutMs} ms`)), options.timeoutMs);
      }
      this.on('update', check);
      this.on('final', check);
      check();
    });
  }
}
