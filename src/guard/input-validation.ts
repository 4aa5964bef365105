/**
 * Input validation per route: allowed content types and a JSON Schema for the
 * body, compiled once per route by ajv in strict mode with `allErrors: false`,
 * no type coercion, no defaults and no removal of extra properties — a bad
 * body is refused, never rewritten. The body is read only up to the route's
 * limit (413 past it); malformed JSON → 400; a schema failure → 400 naming
 * the first error's instance path and keyword, never echoing the value.
 */
import { createRequire } from 'node:module';
import type { Readable } from 'node:stream';
import type { ValidateFunction } from 'ajv';
import { GuardError } from './guard-error.js';
import { readBody } from './body-limit.js';
import { checkContentType, isJson, type MediaType } from './content-type.js';
import { MAX_BODY_BYTES } from './server-limits.js';

const require = createRequire(import.meta.url);
// ajv is CommonJS; its default export needs unwrapping under NodeNext.
const AjvClass = require('ajv') as typeof import('ajv').default;

export interface RouteInputRule {
  /** Allowed media types (`type/subtype`, case-insensitive); default `['application/json']` when a schema is set. */
  readonly contentTypes?: readonly string[];
  /** JSON Schema (draft-07 / 2019 subset ajv 8 supports by default) for JSON bodies. */
  readonly schema?: object;
  /** Body limit in bytes; default 1 MiB. */
  readonly maxBodyBytes?: number;
  /** Whether a body is required; default true when a schema is set. */
  readonly requireBody?: boolean;
}

export interface ValidatedInput {
  readonly body: Buffer;
  readonly media: MediaType | undefined;
  /** The parsed JSON body (when the media type is JSON). */
  readonly json?: unknown;
}

export interface InputRequest {
  readonly headers: Record<string, string | string[] | undefined>;
}

/** One shared ajv instance: strict, first error only, no coercion, defaults or removal. */
function makeAjv(): import('ajv').default {
  return new AjvClass({
    strict: true,
    allErrors: false,
    coerceTypes: false,
    useDefaults: false,
    removeAdditional: false,
    allowUnionTypes: true,
    validateFormats: true,
    messages: false,
  });
}

export class RouteValidator {
  readonly maxBodyBytes: number;
  readonly #allowed: ReadonlySet<string>;
  readonly #validate: ValidateFunction | undefined;
  readonly #requireBody: boolean;

  /** Compiles the schema now (throws on an invalid schema: a configuration error). */
  constructor(rule: RouteInputRule, ajv: import('ajv').default = sharedAjv()) {
    this.maxBodyBytes = rule.maxBodyBytes ?? MAX_BODY_BYTES;
    if (!Number.isSafeInteger(this.maxBodyBytes) || this.maxBodyBytes < 0) throw new RangeError('maxBodyBytes must be a non-negative integer');
    const types = rule.contentTypes ?? (rule.schema === undefined ? [] : ['application/json']);
    this.#allowed = new Set(types.map((t) => t.trim().toLowerCase()));
    this.#validate = rule.schema === undefined ? undefined : ajv.compile(rule.schema);
    this.#requireBody = rule.requireBody ?? rule.schema !== undefined;
  }

  /** Reads and validates the body of `req` (a readable stream with headers). Throws a GuardError on refusal. */
  async read(req: Readable & InputRequest): Promise<ValidatedInput> {
    const contentLength = header(req.headers['content-length']);
    const hasBody = (contentLength !== undefined && contentLength !== '0') || req.headers['transfer-encoding'] !== undefined;
    if (!hasBody) {
      if (this.#requireBody) throw new GuardError('ERR_GUARD_INVALID_INPUT', 'request body required', { detail: '' });
      return { body: Buffer.alloc(0), media: undefined };
    }
    const media = this.checkMediaType(header(req.headers['content-type']));
    const body = await readBody(req, this.maxBodyBytes, contentLength);
    return this.validateBody(body, media);
  }

  /** The content-type check alone (415 when refused). */
  checkMediaType(contentType: string | undefined): MediaType | undefined {
    if (this.#allowed.size === 0) return undefined;
    const media = checkContentType(contentType, this.#allowed);
    if (media instanceof GuardError) throw media;
    return media;
  }

  /** Validates an already-read body. */
  validateBody(body: Buffer, media: MediaType | undefined): ValidatedInput {
    if (media === undefined || !isJson(media.essence)) {
      if (this.#validate !== undefined) throw new GuardError('ERR_GUARD_UNSUPPORTED_MEDIA_TYPE', 'a JSON body is required');
      return { body, media };
    }
    let json: unknown;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch {
      throw new GuardError('ERR_GUARD_INVALID_INPUT', 'malformed JSON body', { detail: '' });
    }
    this.validateJson(json);
    return { body, media, json };
  }

  /** Checks a parsed value against the schema; throws 400 naming the first error's path and keyword. */
  validateJson(json: unknown): void {
    const validate = this.#validate;
    if (validate === undefined || validate(json)) return;
    const first = validate.errors?.[0];
    const path = first?.instancePath ?? '';
    const where = path.length > 200 ? `${path.slice(0, 200)}…` : path;
    throw new GuardError('ERR_GUARD_INVALID_INPUT', `body fails its schema at "${where || '/'}" (${first?.keyword ?? 'schema'})`, { detail: where });
  }
}

let shared: import('ajv').default | undefined;
function sharedAjv(): import('ajv').default {
  shared ??= makeAjv();
  return shared;
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
