/**
 * Time and audience inputs of validation, checked at the edge: a bad option is
 * a programmer error (TypeError/RangeError), never a token error.
 */

export interface JwtSvidValidationOptions {
  /** The validation time; defaults to the current clock. */
  readonly now?: Date;
  /**
   * Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds. Default 30:
   * enough for ordinary NTP drift between hosts, and half of go-spiffe's
   * one minute because JWT-SVIDs live only minutes (SPIRE default 5). Values
   * above 300 are refused: a larger leeway would silently extend every token's
   * life by more than a typical token lifetime.
   */
  readonly leeway?: number;
  /**
   * Refuse tokens whose `aud` names more than one audience: any listed
   * audience could replay a multi-audience token against the others (JWT-SVID.md §7.2).
   */
  readonly singleAudience?: boolean;
  /**
   * Refuse tokens without `kid`, as go-spiffe, java-spiffe and SPIRE do
   * (SECURITY-CASES.md case 25). Off by default: JWT-SVID.md §2.2 makes `kid`
   * optional, and the issue asks us to accept such tokens by trying the
   * subject's trust-domain keys that fit the algorithm.
   */
  readonly requireKeyId?: boolean;
  /** The Workload API `hint` to keep with the SVID (never used for validation). */
  readonly hint?: string;
}

export const JWT_SVID_DEFAULT_LEEWAY_SECONDS = 30;
export const JWT_SVID_MAX_LEEWAY_SECONDS = 300;

export interface ValidationTime {
  /** Seconds since the epoch, fractional. */
  readonly now: number;
  readonly leeway: number;
}

export function resolveTime(options: JwtSvidValidationOptions | undefined): ValidationTime {
  if (options === undefined) return { now: Date.now() / 1000, leeway: JWT_SVID_DEFAULT_LEEWAY_SECONDS };
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  const { now, leeway = JWT_SVID_DEFAULT_LEEWAY_SECONDS } = options;
  let nowMs = Date.now();
  if (now !== undefined) {
    if (!(now instanceof Date) || Number.isNaN(now.getTime())) throw new TypeError('"now" must be a valid Date');
    nowMs = now.getTime();
  }
  if (typeof leeway !== 'number' || Number.isNaN(leeway)) throw new TypeError('"leeway" must be a number of seconds');
  if (leeway < 0 || leeway > JWT_SVID_MAX_LEEWAY_SECONDS) throw new RangeError(`"leeway" must be between 0 and ${JWT_SVID_MAX_LEEWAY_SECONDS} seconds`);
  return { now: nowMs / 1000, leeway };
}

/**
 * The audiences this verifier accepts: a non-empty string, or a non-empty
 * array of them. An empty list would turn the audience check off (the
 * go-spiffe and jwt-go CVE-2020-26160 pitfall), so it is refused outright.
 */
export function checkExpectedAudience(audience: unknown): string | readonly string[] {
  if (typeof audience === 'string') {
    if (audience.length === 0) throw new TypeError('expected audience must be a non-empty string');
    return audience;
  }
  if (!Array.isArray(audience) || audience.length === 0) {
    throw new TypeError('expected audience must be a non-empty string or a non-empty array of non-empty strings');
  }
  for (const value of audience) {
    if (typeof value !== 'string' || value.length === 0) throw new TypeError('every expected audience must be a non-empty string');
  }
  return audience as readonly string[];
}
