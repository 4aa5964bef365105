/**
 * Chain verification over a sequence of lines (from a file or a table). It
 * walks the lines once, checking that each `seq` is the next number and each
 * `prev` is the SHA-256 of the line before, and at the first break says which
 * line is bad and how: altered, removed, inserted, reordered, truncated.
 *
 * What a chain alone cannot show: the removal or rewrite of the *last*
 * records, or a file rewritten from scratch by someone who recomputes every
 * hash. Compare `head` with a copy kept elsewhere (the sink reports its head)
 * for that. See docs/audit.md.
 */
import { GENESIS_PREV, sha256Hex, type ChainHead } from './chain.js';

export interface VerifyOptions {
  /** The `prev` the first line must carry: GENESIS_PREV by default, or the head hash of the file this one continues. */
  readonly firstPrev?: string;
  /** The `seq` of the first line; default 1. */
  readonly firstSeq?: number;
}

export interface VerifyResult {
  readonly ok: boolean;
  /** Records verified before the first problem (gap records included). */
  readonly records: number;
  /** Lines seen, including a torn one. */
  readonly lines: number;
  /** The last verified record; null when none. */
  readonly head: ChainHead | null;
  /** Torn lines the writer accounted for with a gap record on restart (1-based line numbers). */
  readonly gaps: ReadonlyArray<{ line: number; bytes: number }>;
  /** 1-based number of the first bad line. */
  readonly firstBadLine?: number;
  readonly problem?: string;
}

export interface Parsed {
  seq: number;
  prev: string;
  kind: unknown;
  gap?: { tornSha256?: unknown } | undefined;
}

const HEX64 = /^[0-9a-f]{64}$/;

export function parseLine(line: Uint8Array | undefined): Parsed | null {
  if (line === undefined || line.length === 0 || line[0] !== 0x7b) return null;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(line.buffer, line.byteOffset, line.byteLength).toString('utf8'));
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const v = value as Record<string, unknown>;
  if (!Number.isSafeInteger(v.seq) || (v.seq as number) < 1 || typeof v.prev !== 'string' || !HEX64.test(v.prev)) return null;
  return { seq: v.seq as number, prev: v.prev, kind: v.kind, gap: v.gap as Parsed['gap'] };
}

/**
 * @param lines each line's bytes without its newline
 * @param tornTail true when the last line had no newline (the writer stopped mid-line)
 */
export function verifyAuditLines(lines: readonly Uint8Array[], tornTail = false, options: VerifyOptions = {}): VerifyResult {
  let expected = options.firstSeq ?? 1;
  let prev = options.firstPrev ?? GENESIS_PREV;
  let head: ChainHead | null = null;
  let records = 0;
  const gaps: Array<{ line: number; bytes: number }> = [];
  const hashes: string[] = [];
  const hashOf = (i: number): string => (hashes[i] ??= sha256Hex(lines[i]!));
  const fail = (line: number, problem: string, uncount = 0) => ({
    ok: false,
    records: records - uncount,
    lines: lines.length,
    head,
    gaps,
    firstBadLine: line,
    problem,
  });

  for (let i = 0; i < lines.length; i++) {
    const n = i + 1;
    const line = lines[i]!;
    const rec = parseLine(line);
    const last = i === lines.length - 1;
    if (last && tornTail && (rec === null || rec.seq !== expected || rec.prev !== prev)) {
      return fail(n, `line ${n}: truncated last line (${line.length} bytes without a newline: the writer stopped mid-record)`);
    }
    if (rec === null) {
      const next = parseLine(lines[i + 1]);
      if (next !== null && next.kind === 'gap' && next.gap?.tornSha256 === hashOf(i) && next.prev === prev && next.seq === expected) {
        gaps.push({ line: n, bytes: line.length });
        continue; // the gap record after it chains to the last good line
      }
      return fail(n, `line ${n}: not a valid audit record (altered, or a torn line without a gap record after it)`);
    }
    if (rec.seq === expected && rec.prev === prev) {
      records += 1;
      prev = hashOf(i);
      head = { seq: rec.seq, hash: prev };
      expected += 1;
      continue;
    }
    if (rec.seq === expected) {
      if (records === 0) return fail(n, `line ${n}: prev does not match the start of the chain (expected ${prev})`);
      return fail(n - 1, `line ${n - 1} was altered: its SHA-256 does not match the prev recorded by line ${n}`, 1);
    }
    if (rec.seq > expected) {
      const later = lines.slice(i + 1).some((l) => parseLine(l)?.seq === expected);
      if (later) return fail(n, `line ${n}: records out of order (seq ${rec.seq} where ${expected} was expected)`);
      const missing = rec.seq - expected === 1 ? `seq ${expected} is` : `seq ${expected}–${rec.seq - 1} are`;
      return fail(n, `line ${n}: record(s) removed (${missing} missing before this line)`);
    }
    // rec.seq < expected
    if (i >= 2 && rec.seq === expected - 1 && rec.prev === hashOf(i - 2)) {
      return fail(n - 1, `line ${n - 1} was inserted: line ${n} chains to line ${n - 2}`, 1);
    }
    return fail(n, `line ${n}: seq ${rec.seq} repeats or goes back (expected ${expected}): a line was inserted or records reordered`);
  }
  return { ok: true, records, lines: lines.length, head, gaps };
}
