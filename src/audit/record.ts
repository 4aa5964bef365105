/**
 * The audit record: one per HTTP request, one per TCP connection. The input
 * type is what the proxy hands over; the output type is what lands on disk,
 * after sanitization (sanitize.ts) and before chaining (chain.ts).
 *
 * There is deliberately no field for headers, cookies, keys or tokens: the
 * sanitizer copies only the fields listed here, so anything else a caller
 * attaches (an `authorization` header, a `headers` object) is never written.
 * A token is represented by `tokenId` only (see token-id.ts).
 */

export type AuditDecision = 'allow' | 'deny';
export type AuditKind = 'http' | 'tcp';

/** Client-controlled text may arrive as raw bytes (a header value) or as a string. */
export type AuditText = string | Uint8Array;

export interface AuditRecordInput {
  /** When the request arrived; default: now. */
  readonly time?: Date | number;
  readonly kind?: AuditKind;
  /** The verified caller's SPIFFE ID; null for plaintext (PERMISSIVE) or a failed handshake. */
  readonly caller: string | null;
  /** This workload or app (e.g. `spiffe://td/ns/shop/sa/payment` or `payment`). */
  readonly destination: string;
  readonly method?: AuditText | null;
  /** The path exactly as the client sent it. */
  readonly path?: AuditText | null;
  /** The path the policy saw and the app receives. */
  readonly normalizedPath?: AuditText | null;
  readonly host?: AuditText | null;
  readonly sni?: AuditText | null;
  readonly userAgent?: AuditText | null;
  readonly decision: AuditDecision;
  /** `namespace/name` of the deciding policy, or null for the default. */
  readonly policy?: string | null;
  readonly rule?: string | null;
  /** A dry-run (AUDIT) policy that matched but was not enforced. */
  readonly dryRun?: boolean;
  readonly status?: number | null;
  readonly bytesIn?: number;
  readonly bytesOut?: number;
  readonly durationMs?: number;
  /** The correlation ID (`x-request-id`), already resolved by resolveRequestId(). */
  readonly requestId?: string | null;
  readonly traceparent?: string | null;
  /** The direct peer, `ip:port`. */
  readonly source?: string | null;
  readonly reason?: AuditText | null;
  /** A token's `jti` or SHA-256 prefix, from describeToken(); never the token. */
  readonly tokenId?: string | null;
}

/** What a sink writes (before `seq` and `prev` are added in front). */
export interface AuditRecord {
  time: string;
  kind: AuditKind | 'gap';
  requestId: string | null;
  traceparent: string | null;
  caller: string | null;
  destination: string | null;
  source: string | null;
  method: string | null;
  path: string | null;
  normalizedPath: string | null;
  host: string | null;
  sni: string | null;
  userAgent: string | null;
  decision: AuditDecision | null;
  policy: string | null;
  rule: string | null;
  dryRun: boolean;
  status: number | null;
  bytesIn: number;
  bytesOut: number;
  durationMs: number;
  reason: string | null;
  tokenId: string | null;
  /** Set when sanitization replaced invalid UTF-8 or cut an over-long field. */
  sanitized?: { invalidUtf8: number; truncated: string[] };
  /** Only on a `gap` record: the torn line it accounts for. */
  gap?: { tornBytes: number; tornSha256: string; afterSeq: number };
}
