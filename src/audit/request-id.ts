import { randomUUID } from 'node:crypto';

/** Longest client-supplied `x-request-id` kept as is. */
export const MAX_REQUEST_ID_LENGTH = 128;
const SAFE = /^[A-Za-z0-9._:@+=\/-]+$/;

/** A new correlation ID: a random UUID (v4). */
export function generateRequestId(): string {
  return randomUUID();
}

/** True when a client's `x-request-id` may be kept: 1–128 characters of `A-Z a-z 0-9 . _ : @ + = / -`. */
export function isValidRequestId(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_REQUEST_ID_LENGTH && SAFE.test(value);
}

/**
 * The request's correlation ID: the client's when valid, else a new one (a
 * missing, over-long or unsafe ID is replaced, never repaired). An array
 * (a repeated header) is treated as invalid.
 */
export function resolveRequestId(header: string | readonly string[] | undefined): { id: string; generated: boolean } {
  if (isValidRequestId(header)) return { id: header, generated: false };
  return { id: generateRequestId(), generated: true };
}
