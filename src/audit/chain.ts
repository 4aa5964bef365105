/**
 * The hash chain. Every line is a JSON object whose first two members are
 * `seq` (1, 2, 3, … per file or table) and `prev`, the SHA-256 (lowercase
 * hex) of the previous line's exact bytes, without its newline. The first
 * line of a new chain has `prev` = GENESIS_PREV (64 zeros).
 */
import { hash } from 'node:crypto';
import type { AuditRecord } from './record.js';

export const GENESIS_PREV = '0'.repeat(64);

/** Where a chain stands: the last sealed line's `seq` (0 for none) and SHA-256. */
export interface ChainHead {
  readonly seq: number;
  readonly hash: string;
}

export const GENESIS_HEAD: ChainHead = { seq: 0, hash: GENESIS_PREV };

export function sha256Hex(data: string | Uint8Array): string {
  return hash('sha256', data, 'hex'); // one-shot: cheaper than createHash() for a single line
}

/**
 * JSON.stringify escapes `"`, `\` and every control character (so `\n` and
 * `\r` can never end a line early). U+0085, U+2028 and U+2029 are legal raw in
 * JSON but some line readers split on them, so they are escaped as well: one
 * record is always exactly one line, whatever the reader.
 */
const LINE_SEPARATORS = /[\u0085\u2028\u2029]/;

export function encodeJson(value: unknown): string {
  const json = JSON.stringify(value);
  if (!LINE_SEPARATORS.test(json)) return json;
  return json.replace(/[\u0085\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export interface SealedLine {
  readonly seq: number;
  /** The line's bytes, without the newline. */
  readonly bytes: Buffer;
  readonly hash: string;
}

/** Seals `record` after `head`: the line to write and the new head. */
export function sealRecord(head: ChainHead, record: AuditRecord): SealedLine {
  const seq = head.seq + 1;
  const bytes = Buffer.from(encodeJson({ seq, prev: head.hash, ...record }), 'utf8');
  return { seq, bytes, hash: sha256Hex(bytes) };
}

/** Seals a batch in order; returns the lines and the head after the last one. */
export function sealBatch(head: ChainHead, records: readonly AuditRecord[]): { lines: SealedLine[]; head: ChainHead } {
  const lines: SealedLine[] = [];
  let current = head;
  for (const record of records) {
    const line = sealRecord(current, record);
    lines.push(line);
    current = { seq: line.seq, hash: line.hash };
  }
  return { lines, head: current };
}

/** The record a sink writes after a torn final line, so the chain goes on and the tear stays visible. */
export function gapRecord(torn: Uint8Array, afterSeq: number, time: string): AuditRecord {
  return {
    time,
    kind: 'gap',
    requestId: null,
    traceparent: null,
    caller: null,
    destination: null,
    source: null,
    method: null,
    path: null,
    normalizedPath: null,
    host: null,
    sni: null,
    userAgent: null,
    decision: null,
    policy: null,
    rule: null,
    dryRun: false,
    status: null,
    bytesIn: 0,
    bytesOut: 0,
    durationMs: 0,
    reason: 'torn final line (the writer stopped mid-record); the chain continues from the last complete record',
    tokenId: null,
    gap: { tornBytes: torn.length, tornSha256: sha256Hex(torn), afterSeq },
  };
}
