/**
 * Random hex IDs (trace and span IDs) drawn from a pooled buffer: one
 * `randomFillSync` per 4 KiB instead of one per ID, as Node's own
 * `randomUUID` does. The bytes come from the same CSPRNG; each byte is
 * handed out once.
 */
import { randomFillSync } from 'node:crypto';

const POOL_BYTES = 4096;
const pool = Buffer.allocUnsafe(POOL_BYTES);
let offset = POOL_BYTES;

/** `bytes` fresh random bytes as lower-case hex (bytes ≤ 64). */
export function randomHex(bytes: number): string {
  if (offset + bytes > POOL_BYTES) {
    randomFillSync(pool);
    offset = 0;
  }
  const hex = pool.toString('hex', offset, offset + bytes);
  offset += bytes;
  return hex;
}
