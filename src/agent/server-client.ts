/**
 * The agent's HTTP client of the server's agent API, over any of the
 * configured server URLs. A request goes to the last server that answered;
 * when it cannot be reached (connection refused, TLS failure, timeout,
 * 502/503/504) the next URL is tried, and only when all fail is the
 * request an ERR_AGENT_SERVER_UNREACHABLE. Every URL gets the same checks:
 * there is nothing weaker to fall back to. A 4xx answer is the server's
 * decision and is not retried elsewhere.
 */
import { request, type Dispatcher } from 'undici';
import { AgentError } from './agent-error.js';

export interface ServerClientOptions {
  readonly urls: readonly string[];
  readonly timeoutMs?: number;
  /** Called when reachability changes. */
  readonly onReachability?: (reachable: boolean) => void;
}

const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

export class ServerClient {
  readonly urls: readonly string[];
  readonly #timeout: number;
  readonly #onReachability: (reachable: boolean) => void;
  #current = 0;
  #reachable: boolean | undefined;

  constructor(options: ServerClientOptions) {
    if (options.urls.length === 0) throw new TypeError('at least one server URL is needed');
    this.urls = options.urls.map((u) => u.replace(/\/+$/, ''));
    this.#timeout = options.timeoutMs ?? 15_000;
    this.#onReachability = options.onReachability ?? (() => undefined);
  }

  /** The URL requests go to first. */
  get currentUrl(): string {
    return this.urls[this.#current]!;
  }

  get reachable(): boolean {
    return this.#reachable === true;
  }

  async call<T>(dispatcher: Dispatcher, method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const bytes = await this.callBytes(dispatcher, method, path, body);
    return parseAnswer(bytes, `${this.currentUrl}${path}`, 200) as T;
  }

  /**
   * As {@link call}, resolving with the bytes of the (200) answer, not decoded: a caller can see it did not
   * change without making a string of it.
   */
  async callBytes(dispatcher: Dispatcher, method: 'GET' | 'POST', path: string, body?: unknown): Promise<Buffer> {
    const failures: string[] = [];
    for (let i = 0; i < this.urls.length; i++) {
      const index = (this.#current + i) % this.urls.length;
      const base = this.urls[index]!;
      let res: Dispatcher.ResponseData;
      try {
        res = await request(`${base}${path}`, {
          method,
          dispatcher,
          headersTimeout: this.#timeout,
          bodyTimeout: this.#timeout,
          ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
        });
      } catch (err) {
        failures.push(`${base}: ${describe(err)}`);
        continue;
      }
      let bytes: Buffer;
      try {
        bytes = await readLimited(res);
      } catch (err) {
        failures.push(`${base}: ${describe(err)}`);
        continue;
      }
      if (res.statusCode === 502 || res.statusCode === 503 || res.statusCode === 504) {
        failures.push(`${base}: HTTP ${res.statusCode}`);
        continue;
      }
      this.#current = index;
      this.#setReachable(true);
      if (res.statusCode !== 200) {
        const json = parseAnswer(bytes, `${base}${path}`, res.statusCode);
        const error = (json as { error?: { code?: string; message?: string } } | undefined)?.error;
        throw new AgentError(error?.code === 'ERR_STORE_AGENT_BANNED' || error?.code === 'ERR_SERVER_AGENT_BANNED' ? 'ERR_AGENT_BANNED' : 'ERR_AGENT_SERVER_REFUSED', `server refused ${method} ${path} (HTTP ${res.statusCode}): ${error?.message ?? 'no reason given'}${error?.code ? ` [${error.code}]` : ''}`, {
          status: res.statusCode,
          ...(error?.code === undefined ? {} : { serverCode: error.code }),
        });
      }
      return bytes;
    }
    this.#setReachable(false);
    throw new AgentError('ERR_AGENT_SERVER_UNREACHABLE', `no server reachable: ${failures.join('; ')}`);
  }

  /** Marks the current server down, so the next call starts with the next URL. */
  rotate(): void {
    this.#current = (this.#current + 1) % this.urls.length;
  }

  markUnreachable(): void {
    this.#setReachable(false);
  }

  #setReachable(reachable: boolean): void {
    if (this.#reachable === reachable) return;
    this.#reachable = reachable;
    this.#onReachability(reachable);
  }
}

/** The JSON of a server answer (undefined when empty). */
export function parseAnswer(bytes: Buffer, where: string, status: number): unknown {
  try {
    return bytes.length === 0 ? undefined : JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new AgentError('ERR_AGENT_SERVER_REFUSED', `server ${where}: answer is not JSON (HTTP ${status})`, { status });
  }
}

async function readLimited(res: Dispatcher.ResponseData): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body) {
    size += (chunk as Buffer).length;
    if (size > MAX_RESPONSE_BYTES) {
      res.body.destroy();
      throw new Error(`answer larger than ${MAX_RESPONSE_BYTES} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function describe(err: unknown): string {
  const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = e?.cause?.code ?? e?.code;
  const message = e?.cause?.message ?? e?.message ?? String(err);
  return code ? `${code}: ${message}` : message;
}
