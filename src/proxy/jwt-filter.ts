/**
 * Inbound JWT-SVID authentication, the filter between hygiene and authorize
 * (Istio RequestAuthentication / Envoy jwt_authn, with JWT-SVID rules). The
 * token is validated by `authenticateJwtSvid` (src/workload/jwt-auth.ts):
 * one `Authorization: Bearer` header, `JwtSvid.parseAndValidate` against the
 * bundle of the subject's trust domain, optional replay memory.
 *
 * - A valid token: its SPIFFE ID becomes the request principal the policy
 *   sees (`requestPrincipals`), its claims `request.auth.claims`.
 * - No Authorization header: 401 when `required`, else on with no request
 *   principal (Envoy `allow_missing`).
 * - Anything else present (two headers, not Bearer, malformed, expired,
 *   wrong audience, untrusted trust domain, bad signature, replayed): 401
 *   `Bearer error="invalid_token"`, counted by reason and towards the
 *   source's lockout — never treated as absent (Envoy CVE-2021-21378).
 *
 * Trust domains are those of `inbound.trustDomains` (default ours): a token
 * of another trust domain is refused even when a bundle for it is at hand.
 * Responses and audit reasons name a fixed category, never the token or an
 * attacker-chosen value from it.
 */
import { describeToken } from '../audit/index.js';
import type { Lockout } from '../guard/index.js';
import type { JwtSvid } from '../spiffe/jwt/jwt-svid.js';
import type { JwtBundleSource } from '../spiffe/sources.js';
import type { TrustDomain } from '../spiffe/trust-domain.js';
import { HttpAuthError } from '../workload/errors.js';
import { authenticateJwtSvid, authorizationHeaders, JtiReplayCache, type JwtSvidAuthOptions } from '../workload/jwt-auth.js';
import type { JwtConfig } from './config.js';
import { deny, type Exchange, type Filter, type InboundContext } from './inbound-handler.js';

export interface JwtFilterOptions {
  readonly config: JwtConfig;
  readonly bundles: JwtBundleSource;
  /** Trust domains whose tokens are accepted. */
  readonly trustDomains: readonly string[];
  readonly lockout: Lockout;
}

/** Token failure codes → the `reason` label of `meshward_proxy_authn_failures_total` (a closed set). */
const REASONS: Readonly<Record<string, string>> = {
  ERR_WORKLOAD_JWT_MISSING: 'jwt-missing',
  ERR_WORKLOAD_JWT_MULTIPLE_HEADERS: 'jwt-multiple-headers',
  ERR_WORKLOAD_JWT_BAD_SCHEME: 'jwt-malformed',
  ERR_WORKLOAD_JWT_REPLAYED: 'jwt-replayed',
  ERR_WORKLOAD_JWT_CNF_MISMATCH: 'jwt-certificate-binding',
  ERR_JWT_SVID_EXPIRED: 'jwt-expired',
  ERR_JWT_SVID_NOT_YET_VALID: 'jwt-not-yet-valid',
  ERR_JWT_SVID_ISSUED_IN_FUTURE: 'jwt-not-yet-valid',
  ERR_JWT_SVID_AUDIENCE_MISMATCH: 'jwt-audience',
  ERR_JWT_SVID_MISSING_AUD: 'jwt-audience',
  ERR_JWT_SVID_MULTIPLE_AUDIENCES: 'jwt-audience',
  ERR_JWT_SVID_NO_BUNDLE: 'jwt-untrusted-trust-domain',
  ERR_JWT_SVID_BAD_SIGNATURE: 'jwt-signature',
  ERR_JWT_SVID_UNKNOWN_KEY_ID: 'jwt-signature',
  ERR_JWT_SVID_NO_MATCHING_KEY: 'jwt-signature',
  ERR_JWT_SVID_ALG_KEY_MISMATCH: 'jwt-signature',
  ERR_JWT_SVID_MISSING_KEY_ID: 'jwt-no-key-id',
  ERR_JWT_SVID_UNSUPPORTED_ALG: 'jwt-algorithm',
};

function reasonOf(err: HttpAuthError): string {
  const code = err.code === 'ERR_WORKLOAD_JWT_INVALID' ? (err.cause as { code?: string } | undefined)?.code : err.code;
  return (code !== undefined ? REASONS[code] : undefined) ?? 'jwt-malformed';
}

/** Only the accepted trust domains' bundles: a foreign token then fails as "no bundle" (401), before any signature work. */
function restrict(bundles: JwtBundleSource, trustDomains: readonly string[]): JwtBundleSource {
  const allowed = new Set(trustDomains);
  return { getJwtBundleForTrustDomain: (td: TrustDomain) => (allowed.has(td.name) ? bundles.getJwtBundleForTrustDomain(td) : undefined) };
}

export function jwtAuthentication(options: JwtFilterOptions): (ctx: InboundContext) => Filter {
  const { config, lockout } = options;
  const bundles = restrict(options.bundles, options.trustDomains);
  const auth: JwtSvidAuthOptions = {
    audience: config.audience,
    allowMissing: !config.required,
    requireKeyId: config.requireKeyId,
    // one memory per proxy process, like every other guard here
    ...(config.replay ? { replay: new JtiReplayCache() } : {}),
  };
  const strip = !config.forwardOriginalToken;

  return (ctx) => {
    const refuse = (ex: Exchange, ip: string, err: unknown): void => {
      if (!(err instanceof HttpAuthError)) throw err; // a programming error, not a token problem
      if (err.status === 503) return deny(ctx, ex, 503, 'JWT-SVID replay memory is full; retry later');
      const reason = reasonOf(err);
      ctx.metrics.authnFailure(reason);
      // Absent is not an attempt; anything presented and refused is.
      if (err.code !== 'ERR_WORKLOAD_JWT_MISSING') lockout.recordFailure(ip, reason);
      const challenge = err.code === 'ERR_WORKLOAD_JWT_MISSING' ? 'Bearer' : err.code === 'ERR_WORKLOAD_JWT_MULTIPLE_HEADERS' ? 'Bearer error="invalid_request"' : 'Bearer error="invalid_token"';
      deny(ctx, ex, 401, `JWT-SVID authentication failed: ${reason}`, { 'www-authenticate': challenge });
    };

    return (next) => (ex) => {
      const ip = ex.sourceIp;
      // A connection opened before the lockout may still carry requests.
      const status = lockout.check(ip);
      if (status.locked) {
        ctx.metrics.lockoutRefusal();
        return deny(ctx, ex, 429, 'source locked out after repeated authentication failures', { 'retry-after': String(status.retryAfterSeconds) });
      }
      // Audited as jti or a hash prefix, and only for Bearer values: a hash of a Basic password could be brute-forced.
      const values = authorizationHeaders(ex.req);
      if (values.length === 1 && /^bearer /i.test(values[0]!)) ex.tokenId = describeToken(values[0]!);
      let svid: JwtSvid | undefined;
      try {
        svid = authenticateJwtSvid(ex.req, auth, bundles);
      } catch (err) {
        return refuse(ex, ip, err);
      }
      ex.stripAuthorization = strip;
      if (svid !== undefined) {
        ex.requestPrincipal = svid.id.toString();
        ex.jwtClaims = svid.claims;
      }
      next(ex);
    };
  };
}
