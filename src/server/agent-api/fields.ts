/** Checks of agent-API request bodies; each refusal is a 400 naming the field by its path. */
import { badRequest } from '../server-error.js';

export type Json = Record<string, unknown>;

const describe = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : typeof v);

/** A JSON object with only the `allowed` members. */
export function object(value: unknown, field: string, allowed: readonly string[]): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw badRequest(field === '' ? 'body' : field, `${field === '' ? 'the request body' : field} must be a JSON object, got ${describe(value)}`);
  }
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      const path = field === '' ? key : `${field}.${key}`;
      throw badRequest(path, `${path}: unknown field (allowed: ${allowed.join(', ')})`);
    }
  }
  return value as Json;
}

export function string(value: unknown, field: string, maxLength: number): string {
  if (value === undefined) throw badRequest(field, `${field}: is required`);
  if (typeof value !== 'string' || value.length === 0) throw badRequest(field, `${field}: must be a non-empty string, got ${describe(value)}`);
  if (value.length > maxLength) throw badRequest(field, `${field}: longer than ${maxLength} characters`);
  return value;
}

export function array(value: unknown, field: string, min: number, max: number): unknown[] {
  if (value === undefined) throw badRequest(field, `${field}: is required`);
  if (!Array.isArray(value)) throw badRequest(field, `${field}: must be an array, got ${describe(value)}`);
  if (value.length < min || value.length > max) throw badRequest(field, `${field}: must hold ${min} to ${max} items, got ${value.length}`);
  return value;
}
