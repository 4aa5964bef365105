/**
 * Which endpoint of an outbound destination gets the next attempt:
 * round-robin over the endpoints the outlier detector has not ejected
 * (src/guard/outlier-detection.ts, Envoy consecutive-5xx). Every attempt's
 * outcome is reported back, so a failing endpoint is ejected and, once its
 * ejection ends, tried again.
 *
 * When every endpoint is ejected (possible with maxEjectionPercent 100) all
 * of them are used again, as Envoy's panic mode does: refusing everything
 * would turn partial trouble into a full outage.
 */
import type { HostPort } from './config.js';
import type { OutlierDetector } from '../guard/index.js';

/** `host:port`, the IPv6 host in brackets: the endpoint's name in metrics and logs, and its URL authority. */
export function endpointName(hp: HostPort): string {
  return hp.host.includes(':') ? `[${hp.host}]:${hp.port}` : `${hp.host}:${hp.port}`;
}

/** What an attempt that got no HTTP answer counts as (Envoy maps these to 503 and 504). */
export const CONNECT_FAILURE_STATUS = 503;
export const TIMEOUT_STATUS = 504;

export class EndpointPicker {
  readonly endpoints: readonly string[];
  readonly #detector: OutlierDetector | undefined;
  #next = 0;

  /** `detector`: none for a single endpoint, where ejecting would change nothing. */
  constructor(endpoints: readonly string[], detector?: OutlierDetector) {
    if (endpoints.length === 0) throw new RangeError('an outbound destination needs at least one endpoint');
    this.endpoints = endpoints;
    this.#detector = detector;
  }

  pick(): string {
    const n = this.endpoints.length;
    for (let i = 0; i < n; i++) {
      const k = (this.#next + i) % n;
      const endpoint = this.endpoints[k]!;
      if (this.#detector?.isEjected(endpoint) !== true) {
        this.#next = (k + 1) % n;
        return endpoint;
      }
    }
    const endpoint = this.endpoints[this.#next]!; // panic: all ejected
    this.#next = (this.#next + 1) % n;
    return endpoint;
  }

  /** The attempt's HTTP status, or CONNECT_FAILURE_STATUS / TIMEOUT_STATUS when there was none. */
  report(endpoint: string, status: number): void {
    this.#detector?.record(endpoint, status);
  }

  ejectedCount(): number {
    return this.#detector?.ejectedCount() ?? 0;
  }
}
