/**
 * The server's rate limits (SPIRE's defaults): attestation per source IP
 * (1/s, burst 2) and SVID signing per caller (500 SVIDs/s, burst 500; a
 * batch counts each SVID). A refusal is a 429 with `retry-after` in seconds.
 */
import { KeyedTokenBuckets } from '../guard/token-bucket.js';
import { ServerError } from './server-error.js';

export interface RateLimitSettings {
  readonly attestationPerSecond: number;
  readonly attestationBurst: number;
  readonly signingPerSecond: number;
}

export class RateLimits {
  readonly #attestation: KeyedTokenBuckets;
  readonly #signing: KeyedTokenBuckets;
  readonly #timer: NodeJS.Timeout;

  constructor(settings: RateLimitSettings) {
    this.#attestation = new KeyedTokenBuckets({ ratePerSecond: settings.attestationPerSecond, burst: settings.attestationBurst });
    this.#signing = new KeyedTokenBuckets({ ratePerSecond: settings.signingPerSecond, burst: Math.max(1, settings.signingPerSecond) });
    this.#timer = setInterval(() => {
      const now = Date.now();
      this.#attestation.prune(now);
      this.#signing.prune(now);
    }, 60_000);
    this.#timer.unref();
  }

  /** Throws a 429 ServerError when `sourceIp` attested too often. */
  attestation(sourceIp: string): void {
    const r = this.#attestation.take(sourceIp);
    if (!r.allowed) throw limited('attestation', r.retryAfterMs);
  }

  /** Throws a 429 ServerError when `caller` asked for too many SVIDs. */
  signing(caller: string, count = 1): void {
    const r = this.#signing.take(caller, count);
    if (!r.allowed) throw limited('signing', r.retryAfterMs);
  }

  close(): void {
    clearInterval(this.#timer);
  }
}

function limited(what: string, retryAfterMs: number): ServerError {
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return new ServerError('ERR_SERVER_RATE_LIMITED', 429, `${what} rate limit exceeded; retry in ${seconds} s`, { retryAfter: seconds });
}
