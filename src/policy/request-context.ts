import { normalizeHost } from './normalize-host.js';
import { normalizePath, type PathNormalizationOptions } from './normalize-path.js';
import { principalParts, toIstioPrincipal } from './principal.js';
import { parseIp, type IpAddress } from './ip-address.js';
import type { EvaluateInput, HeaderValue } from './types.js';

export interface RequestNormalizationOptions extends PathNormalizationOptions {
  /** A method with lower-case letters: answer 400 (default, as Istio), or match it case-sensitively. */
  readonly methodCase?: 'reject' | 'exact';
}

/** The JWT identity, `iss` and `sub`, when both are strings. */
export interface JwtPrincipal {
  readonly iss: string;
  readonly sub: string;
}

interface ContextFields {
  protocol: 'HTTP' | 'TCP';
  principal: string | undefined;
  method: string | undefined;
  path: string | undefined;
  forwardPath: string | undefined;
  host: string | undefined;
  port: number | undefined;
  sni: string | undefined;
  lowercaseHeaders: boolean;
}

/** Claims Istio's JWT filter splits on spaces into lists (AUTHZ.md §2). */
const SPACE_DELIMITED = new Set(['scope', 'permission']);

/**
 * Every attribute a matcher may read, normalized once. Costly ones (header
 * map, parsed IPs, JWT lookups) are computed on first use only, so a rule
 * set that never reads headers never pays for them.
 */
export class RequestContext {
  readonly protocol: 'HTTP' | 'TCP';
  readonly principal: string | undefined;
  readonly method: string | undefined;
  /** Normalized path, without query and fragment. */
  readonly path: string | undefined;
  /** What the proxy forwards: the normalized path plus the query. */
  readonly forwardPath: string | undefined;
  readonly host: string | undefined;
  readonly port: number | undefined;
  readonly sni: string | undefined;
  readonly #input: EvaluateInput['request'];
  #parts: ReturnType<typeof principalParts> | undefined;
  #headers: Map<string, string> | undefined;
  readonly #lowercaseHeaders: boolean;
  #sourceIp: IpAddress | null | undefined;
  #remoteIp: IpAddress | null | undefined;
  #destinationIp: IpAddress | null | undefined;

  private constructor(request: EvaluateInput['request'], fields: ContextFields) {
    this.#input = request;
    this.protocol = fields.protocol;
    this.principal = fields.principal;
    this.method = fields.method;
    this.path = fields.path;
    this.forwardPath = fields.forwardPath;
    this.host = fields.host;
    this.port = fields.port;
    this.sni = fields.sni;
    this.#lowercaseHeaders = fields.lowercaseHeaders;
  }

  /** Normalizes a request; returns a reason string when it must be refused with 400. */
  static build(request: EvaluateInput['request'], options: RequestNormalizationOptions): RequestContext | string {
    const protocol = request.protocol ?? 'HTTP';
    if (protocol !== 'HTTP' && protocol !== 'TCP') throw new TypeError(`request.protocol must be 'HTTP' or 'TCP', got ${JSON.stringify(protocol)}`);
    let method: string | undefined;
    let path: string | undefined;
    let forwardPath: string | undefined;
    let host: string | undefined;
    let lowercaseHeaders = false;
    if (protocol === 'HTTP') {
      method = request.method;
      if (method !== undefined) {
        const bad = methodProblem(method, options.methodCase ?? 'reject');
        if (bad) return bad;
      }
      if (request.path !== undefined) {
        const n = normalizePath(request.path, options);
        if (!n.ok) return n.reason;
        path = n.path;
        forwardPath = n.forward;
      }
      const rawHost = request.host ?? headerOf(request.headers, ':authority') ?? headerOf(request.headers, 'host');
      if (rawHost !== undefined) {
        if (hasControl(rawHost)) return 'control character in host';
        host = normalizeHost(rawHost);
      }
      const badHeader = headerProblem(request.headers);
      if (badHeader) return badHeader;
      lowercaseHeaders = allKeysLowercase(request.headers);
    }
    const port = request.port === undefined ? undefined : Number(request.port);
    const principal = toIstioPrincipal(request.principal);
    // A SAN holding NUL or a line break must not be matched (nor copied into headers): SECURITY-CASES 14, 57.
    if (principal !== undefined && hasControl(principal)) return 'control character in peer principal';
    if (typeof request.requestPrincipal === 'string' && hasControl(request.requestPrincipal)) return 'control character in request principal';
    return new RequestContext(request, {
      protocol,
      principal,
      method,
      path,
      forwardPath,
      host,
      port: port !== undefined && Number.isInteger(port) ? port : undefined,
      sni: request.sni || undefined,
      lowercaseHeaders,
    });
  }

  get peerTrustDomain(): string | undefined {
    if (this.principal === undefined) return undefined;
    return (this.#parts ??= principalParts(this.principal)).trustDomain;
  }

  /** From the principal's `/ns/<ns>/`; else the caller's `namespace` (meshward entries); none without a principal. */
  get peerNamespace(): string | undefined {
    if (this.principal === undefined) return undefined;
    const fromId = (this.#parts ??= principalParts(this.principal)).namespace;
    return fromId ?? (this.#input.namespace || undefined);
  }

  /** A header by case-insensitive name; repeated values joined with `,`. Pseudo-headers map to the normalized request. */
  header(name: string): string | undefined {
    if (name === ':authority') return this.host;
    if (name === ':method') return this.method;
    if (name === ':path') return this.forwardPath;
    const raw = this.#input.headers;
    if (this.#lowercaseHeaders && raw) {
      // Keys are already lower case (as Node gives them): read the property, no map needed.
      const v = Object.hasOwn(raw, name) ? raw[name] : undefined;
      if (v !== undefined) return typeof v === 'string' ? v : v.join(',');
      return name === 'host' ? this.host : undefined;
    }
    if (this.#headers === undefined) {
      this.#headers = new Map();
      if (raw) for (const k of Object.keys(raw)) addHeader(this.#headers, k.toLowerCase(), raw[k]);
    }
    const value = this.#headers.get(name);
    if (value === undefined && name === 'host') return this.host;
    return value;
  }

  ip(which: 'source' | 'remote' | 'destination'): IpAddress | null {
    if (which === 'source') return (this.#sourceIp ??= parseOptionalIp(this.ipText(which)));
    if (which === 'remote') return (this.#remoteIp ??= parseOptionalIp(this.ipText(which)));
    return (this.#destinationIp ??= parseOptionalIp(this.ipText(which)));
  }

  /** The address as given; `remote` falls back to `sourceIp`. */
  ipText(which: 'source' | 'remote' | 'destination'): string | undefined {
    const r = this.#input;
    return (which === 'source' ? r.sourceIp : which === 'remote' ? (r.remoteIp ?? r.sourceIp) : r.destinationIp) || undefined;
  }

  /** A claim by nested path, as the list of its string values; non-strings never match. */
  claim(path: readonly string[]): readonly string[] | undefined {
    let value: unknown = this.#input.jwtClaims;
    for (const name of path) {
      if (value === null || typeof value !== 'object' || Array.isArray(value) || !Object.hasOwn(value, name)) return undefined;
      value = (value as Record<string, unknown>)[name];
    }
    if (typeof value === 'string') {
      if (path.length === 1 && SPACE_DELIMITED.has(path[0]!)) return value.split(' ').filter((s) => s !== '');
      return [value];
    }
    if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
    return undefined;
  }

  get jwtPrincipal(): JwtPrincipal | undefined {
    const given = this.#input.requestPrincipal;
    if (given !== undefined) return given ? splitRequestPrincipal(given) : undefined;
    const claims = this.#input.jwtClaims;
    if (!claims) return undefined;
    const { iss, sub } = claims;
    return typeof iss === 'string' && typeof sub === 'string' ? { iss, sub } : undefined;
  }
}

/** As `parseRequestPrincipal` splits a pattern: at the last `/`; without one, the whole is `iss`. */
function splitRequestPrincipal(principal: string): JwtPrincipal {
  const slash = principal.lastIndexOf('/');
  return slash === -1 ? { iss: principal, sub: '' } : { iss: principal.slice(0, slash), sub: principal.slice(slash + 1) };
}

function parseOptionalIp(text: string | undefined): IpAddress | null {
  return text ? parseIp(text) : null;
}

function headerOf(headers: EvaluateInput['request']['headers'], name: string): string | undefined {
  if (!headers) return undefined;
  for (const k of Object.keys(headers)) {
    if (k.toLowerCase() === name) {
      const v = headers[k];
      return typeof v === 'string' ? v : v?.join(',');
    }
  }
  return undefined;
}

function addHeader(map: Map<string, string>, name: string, value: HeaderValue): void {
  if (value === undefined) return;
  const joined = typeof value === 'string' ? value : value.join(',');
  const prev = map.get(name);
  map.set(name, prev === undefined ? joined : `${prev},${joined}`);
}

/** Methods known to be valid and upper case, checked without a regex. */
const COMMON_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'CONNECT', 'TRACE']);

function methodProblem(method: string, mode: 'reject' | 'exact'): string | null {
  if (COMMON_METHODS.has(method)) return null;
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(method)) return 'invalid method';
  if (mode === 'reject' && /[a-z]/.test(method)) return `method "${method}" is not upper case`;
  return null;
}

function hasControl(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

function allKeysLowercase(headers: EvaluateInput['request']['headers']): boolean {
  if (!headers) return true;
  for (const k in headers) {
    for (let i = 0; i < k.length; i++) {
      const c = k.charCodeAt(i);
      if (c >= 0x41 && c <= 0x5a) return false;
    }
  }
  return true;
}

const NUL_OR_LINE_BREAK = /[\0\r\n]/;

function headerProblem(headers: EvaluateInput['request']['headers']): string | null {
  if (!headers) return null;
  for (const k in headers) {
    const v = headers[k];
    if (v === undefined) continue;
    if (typeof v === 'string') {
      if (NUL_OR_LINE_BREAK.test(v)) return `NUL or line break in header "${k}"`;
    } else {
      for (const item of v) if (NUL_OR_LINE_BREAK.test(item)) return `NUL or line break in header "${k}"`;
    }
  }
  return null;
}
