/**
 * The watch stream's fan-out: Server-Sent Events to connected agents. The
 * runtime's one change-log poller (200 ms) hands each batch here, and every
 * stream gets `event: change` with `{"changeId", "kinds"}` (never keys or
 * content: the agent fetches what it may see). A comment line every 15 s
 * keeps idle connections open. Streams are bounded in number; a stream whose
 * agent is banned, evicted or renewed elsewhere is closed; a client that
 * does not read is dropped once 1 MiB is queued for it.
 */
import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Change } from '../../store/types.js';
import type { AgentCache } from '../agent-cache.js';
import { ServerError } from '../server-error.js';

export const HEARTBEAT_MS = 15_000;
const MAX_QUEUED_BYTES = 1024 * 1024;

interface Watcher {
  readonly res: ServerResponse;
  readonly agentId: string;
  readonly serialNumber: string;
}

export class WatchHub {
  readonly #max: number;
  readonly #agents: AgentCache;
  readonly #log: Logger;
  readonly #watchers = new Set<Watcher>();
  readonly #timer: NodeJS.Timeout;
  #closed = false;

  constructor(maxWatchers: number, agents: AgentCache, log: Logger) {
    this.#max = maxWatchers;
    this.#agents = agents;
    this.#log = log;
    this.#timer = setInterval(() => this.#broadcast(': keepalive\n\n'), HEARTBEAT_MS);
    this.#timer.unref();
  }

  get size(): number {
    return this.#watchers.size;
  }

  /** Throws a 503 when the hub is full (before the response is started). */
  reserve(): void {
    if (this.#closed || this.#watchers.size >= this.#max) {
      throw new ServerError('ERR_SERVER_TOO_MANY_WATCHERS', 503, `too many watch streams open (at most ${this.#max}); retry later`, { retryAfter: 5 });
    }
  }

  /** Starts the stream on `res` (the reply is hijacked by the caller). */
  attach(res: ServerResponse, agentId: string, serialNumber: string, changeId: number): void {
    const w: Watcher = { res, agentId, serialNumber };
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write(`retry: 1000\n: watching changes after ${changeId}\n\n`);
    this.#watchers.add(w);
    const drop = (): void => {
      this.#watchers.delete(w);
    };
    res.on('close', drop);
    res.on('error', drop);
  }

  publish(changes: readonly Change[]): void {
    if (changes.length === 0 || this.#watchers.size === 0) return;
    let changeId = 0;
    const kinds = new Set<string>();
    for (const c of changes) {
      if (c.id > changeId) changeId = c.id;
      kinds.add(c.kind);
    }
    if (kinds.has('agent')) this.#recheckAgents();
    this.#broadcast(`event: change\ndata: ${JSON.stringify({ changeId, kinds: [...kinds].sort() })}\n\n`);
  }

  close(): void {
    this.#closed = true;
    clearInterval(this.#timer);
    for (const w of this.#watchers) w.res.end();
    this.#watchers.clear();
  }

  #recheckAgents(): void {
    for (const w of this.#watchers) {
      const agent = this.#agents.peek(w.agentId);
      if (agent === undefined || agent.banned || agent.serialNumber !== w.serialNumber) {
        this.#log.info({ agent: w.agentId }, 'closing the watch stream of an agent no longer allowed');
        this.#watchers.delete(w);
        w.res.end();
      }
    }
  }

  #broadcast(text: string): void {
    for (const w of this.#watchers) {
      if (w.res.writableLength > MAX_QUEUED_BYTES) {
        this.#watchers.delete(w);
        w.res.destroy();
        continue;
      }
      w.res.write(text);
    }
  }
}
