/**
 * W3C Trace Context Level 1 (https://www.w3.org/TR/trace-context/):
 * `traceparent` parsed strictly, continued with a new span ID, or a new
 * trace started when it is missing or invalid; `tracestate` passed through
 * only beside a valid `traceparent` and only when it is itself valid.
 */
import { randomHex } from './random-hex.js';
import { parseTracestate } from './tracestate.js';

export interface TraceParent {
  /** Always `00` on output; the version received is kept here. */
  readonly version: string;
  /** 32 lowercase hex digits, not all zero. */
  readonly traceId: string;
  /** 16 lowercase hex digits, not all zero: the caller's span. */
  readonly parentId: string;
  /** Two lowercase hex digits. */
  readonly flags: string;
  readonly sampled: boolean;
}

const HEX32 = /^[0-9a-f]{32}$/;
const HEX16 = /^[0-9a-f]{16}$/;
const HEX2 = /^[0-9a-f]{2}$/;
const ZERO32 = '0'.repeat(32);
const ZERO16 = '0'.repeat(16);

/**
 * Parses a `traceparent` value; null when invalid. Version 00 must be exactly
 * `00-<32 hex>-<16 hex>-<2 hex>` (55 characters, lowercase, nothing after).
 * Version ff is invalid. A higher version is read by its version-00 prefix:
 * the first 55 characters must have that shape and, when longer, be followed
 * by `-` (fields added by later versions are ignored); only the sampled flag
 * is kept from its flags.
 */
export function parseTraceparent(value: string | readonly string[] | undefined): TraceParent | null {
  if (typeof value !== 'string') return null; // absent, or repeated (ambiguous): invalid
  const v = value.trim();
  if (v.length < 55) return null;
  const version = v.slice(0, 2);
  if (!HEX2.test(version) || version === 'ff') return null;
  if (version === '00' && v.length !== 55) return null;
  if (v.length > 55 && v[55] !== '-') return null;
  if (v[2] !== '-' || v[35] !== '-' || v[52] !== '-') return null;
  const traceId = v.slice(3, 35);
  const parentId = v.slice(36, 52);
  let flags = v.slice(53, 55);
  if (!HEX32.test(traceId) || !HEX16.test(parentId) || !HEX2.test(flags)) return null;
  if (traceId === ZERO32 || parentId === ZERO16) return null;
  if (version !== '00') flags = (parseInt(flags, 16) & 1) === 1 ? '01' : '00';
  return { version, traceId, parentId, flags, sampled: (parseInt(flags, 16) & 1) === 1 };
}

/** A new span ID: 8 random bytes, never all zero. */
export function newSpanId(): string {
  for (;;) {
    const id = randomHex(8);
    if (id !== ZERO16) return id;
  }
}

/** A new trace ID: 16 random bytes, never all zero. */
export function newTraceId(): string {
  for (;;) {
    const id = randomHex(16);
    if (id !== ZERO32) return id;
  }
}

export function formatTraceparent(traceId: string, spanId: string, flags: string): string {
  return `00-${traceId}-${spanId}-${flags}`;
}

export interface TraceContext {
  /** The header to send on: version 00, our new span as parent-id. */
  readonly traceparent: string;
  /** The `tracestate` to send on, or null (dropped or absent). */
  readonly tracestate: string | null;
  readonly traceId: string;
  /** Our span (the new parent-id). */
  readonly spanId: string;
  /** The caller's span, or null when a new trace was started. */
  readonly parentSpanId: string | null;
  readonly sampled: boolean;
  /** True when the incoming `traceparent` was missing or invalid. */
  readonly started: boolean;
}

export interface ContinueTraceOptions {
  /** The sampled flag of a trace we start; default true (every request is audited anyway). */
  readonly sampleNew?: boolean;
}

/**
 * The trace context to propagate for a request with these incoming headers:
 * the same trace with a new span ID when `traceparent` is valid, else a new
 * trace (and the `tracestate` dropped, as the spec requires).
 */
export function continueTrace(
  traceparent: string | readonly string[] | undefined,
  tracestate: string | readonly string[] | undefined,
  options: ContinueTraceOptions = {},
): TraceContext {
  const parent = parseTraceparent(traceparent);
  const spanId = newSpanId();
  if (parent === null) {
    const traceId = newTraceId();
    const sampled = options.sampleNew ?? true;
    const flags = sampled ? '01' : '00';
    return { traceparent: formatTraceparent(traceId, spanId, flags), tracestate: null, traceId, spanId, parentSpanId: null, sampled, started: true };
  }
  return {
    traceparent: formatTraceparent(parent.traceId, spanId, parent.flags),
    tracestate: parseTracestate(tracestate),
    traceId: parent.traceId,
    spanId,
    parentSpanId: parent.parentId,
    sampled: parent.sampled,
    started: false,
  };
}
