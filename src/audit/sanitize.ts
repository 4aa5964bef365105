/**
 * Client-controlled text → safe record fields, before serialization:
 * invalid UTF-8 (raw bytes) and lone surrogates (strings) become U+FFFD and
 * are counted; every field is cut to its cap; token-looking content is
 * replaced. Escaping itself is the JSON encoder's job (encode.ts), never ours.
 */
import type { AuditRecord, AuditRecordInput, AuditText } from './record.js';

/** Per-field caps, in UTF-16 code units. A whole record stays well under 16 KiB. */
export const FIELD_CAPS = {
  caller: 2048, // a SPIFFE ID's own maximum
  destination: 256,
  source: 64,
  method: 16,
  path: 2048,
  normalizedPath: 2048,
  host: 256,
  sni: 256,
  userAgent: 256,
  policy: 256,
  rule: 128,
  reason: 512,
  requestId: 128,
  traceparent: 64,
  tokenId: 80,
} as const;

export type CappedField = keyof typeof FIELD_CAPS;

/** A high surrogate not followed by a low one, or a low one not preceded by a high one. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const decoder = new TextDecoder('utf-8', { fatal: false });
const fatalDecoder = new TextDecoder('utf-8', { fatal: true });

/** A JWT (three base64url parts, the first a JSON header) or a `Bearer`/`Basic` credential. */
const TOKEN_LIKE = /\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*|\b(bearer|basic)\s+[A-Za-z0-9._~+\/=-]+/gi;
/** Quick pre-check: nothing below can match without one of these. */
const MAY_HOLD_SECRET = /eyJ|earer|asic|=/i;
/** Query parameters whose values are secrets. */
const SECRET_PARAM = /([?&;](?:[^=&;#]*(?:token|secret|password|passwd|api[_-]?key|apikey|auth|signature|sig|credential|session)[^=&;#]*)=)([^&;#]*)/gi;

export interface SanitizeStats {
  invalidUtf8: number;
  truncated: string[];
}

/** Decodes bytes as UTF-8 (replacing invalid sequences) and makes strings well-formed. Returns the text and whether anything was replaced. */
export function toWellFormedText(value: AuditText): { text: string; replaced: boolean } {
  if (typeof value === 'string') {
    const text = value.replace(LONE_SURROGATE, '\uFFFD');
    return { text, replaced: text !== value };
  }
  try {
    return { text: fatalDecoder.decode(value), replaced: false };
  } catch {
    return { text: decoder.decode(value), replaced: true };
  }
}

/** Cuts `text` to at most `cap` code units without splitting a surrogate pair. */
export function capText(text: string, cap: number): { text: string; cut: boolean } {
  if (text.length <= cap) return { text, cut: false };
  let end = cap;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return { text: text.slice(0, end), cut: true };
}

/** Replaces bearer tokens, JWTs and secret query parameter values with `[redacted]`. */
export function redactSecrets(text: string): string {
  if (!MAY_HOLD_SECRET.test(text)) return text; // the common case, checked cheaply
  return text.replace(SECRET_PARAM, '$1[redacted]').replace(TOKEN_LIKE, '[redacted]');
}

function field(value: unknown, name: CappedField, stats: SanitizeStats, redact = true): string | null {
  if (value === null || value === undefined) return null;
  let raw: AuditText;
  if (typeof value === 'string' || value instanceof Uint8Array) raw = value;
  else raw = String(value);
  const { text, replaced } = toWellFormedText(raw);
  if (replaced) stats.invalidUtf8 += 1;
  const { text: capped, cut } = capText(redact ? redactSecrets(text) : text, FIELD_CAPS[name]);
  if (cut) stats.truncated.push(name);
  return capped;
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? Math.trunc(value) : 0;
}

function rfc3339(time: Date | number | undefined, now: () => number): string {
  const ms = time === undefined ? now() : typeof time === 'number' ? time : time.getTime();
  return new Date(Number.isFinite(ms) ? ms : now()).toISOString(); // RFC 3339, UTC, milliseconds
}

/**
 * Builds the record to write from what the proxy handed over. Copies only the
 * known fields (an `authorization` or `headers` property on the input is
 * ignored); counts the invalid UTF-8 it replaced.
 */
export function sanitizeRecord(input: AuditRecordInput, now: () => number = Date.now): { record: AuditRecord; stats: SanitizeStats } {
  const stats: SanitizeStats = { invalidUtf8: 0, truncated: [] };
  const status = typeof input.status === 'number' && Number.isInteger(input.status) && input.status >= 0 && input.status <= 999 ? input.status : null;
  const duration = typeof input.durationMs === 'number' && Number.isFinite(input.durationMs) && input.durationMs >= 0 ? Math.round(input.durationMs * 1000) / 1000 : 0;
  const record: AuditRecord = {
    time: rfc3339(input.time, now),
    kind: input.kind === 'tcp' ? 'tcp' : 'http',
    requestId: field(input.requestId, 'requestId', stats, false),
    traceparent: field(input.traceparent, 'traceparent', stats, false),
    caller: field(input.caller, 'caller', stats, false),
    destination: field(input.destination, 'destination', stats, false),
    source: field(input.source, 'source', stats, false),
    method: field(input.method, 'method', stats),
    path: field(input.path, 'path', stats),
    normalizedPath: field(input.normalizedPath, 'normalizedPath', stats),
    host: field(input.host, 'host', stats),
    sni: field(input.sni, 'sni', stats),
    userAgent: field(input.userAgent, 'userAgent', stats),
    decision: input.decision === 'allow' ? 'allow' : 'deny', // anything unexpected is recorded as a denial
    policy: field(input.policy, 'policy', stats),
    rule: field(input.rule, 'rule', stats),
    dryRun: input.dryRun === true,
    status,
    bytesIn: count(input.bytesIn),
    bytesOut: count(input.bytesOut),
    durationMs: duration,
    reason: field(input.reason, 'reason', stats),
    tokenId: field(input.tokenId, 'tokenId', stats),
  };
  if (stats.invalidUtf8 > 0 || stats.truncated.length > 0) record.sanitized = { invalidUtf8: stats.invalidUtf8, truncated: stats.truncated };
  return { record, stats };
}
