/**
 * Keeps the cache in step with the server: a full sync (entries, bundles,
 * revocations, policies) every `intervalMs` (5 s, like SPIRE) as a safety
 * net, and the server's change stream (`GET /agent/v1/watch`, Server-Sent
 * Events) so that a change on the server reaches the cache within a second.
 * When no server answers, it retries with backoff (1 s → 30 s, jittered)
 * while the cache keeps serving what it holds.
 */
import { EventEmitter } from 'node:events';
import { request } from 'undici';
import { Bundle } from '../spiffe/bundle.js';
import { AgentError } from './agent-error.js';
import type { AgentIdentity } from './agent-identity.js';
import { readEntry, type AgentEntry } from './entry.js';
import { AnswerMemo } from './answer-memo.js';
import { Backoff } from './rotation.js';
import { parseAnswer, type ServerClient } from './server-client.js';
import type { AgentPolicies, Revocation, SvidCache } from './svid-cache.js';

export interface SyncOptions {
  readonly cache: SvidCache;
  readonly identity: AgentIdentity;
  readonly client: ServerClient;
  readonly intervalMs?: number;
  readonly log: { info(o: object, m: string): void; warn(o: object, m: string): void; error(o: object, m: string): void; debug(o: object, m: string): void };
}

/** Server codes meaning "this agent is no longer trusted": its cache is dropped. */
const DISOWNED = new Set(['ERR_SERVER_AGENT_BANNED', 'ERR_SERVER_AGENT_UNKNOWN', 'ERR_SERVER_SVID_REPLACED']);

export class Syncer extends EventEmitter {
  readonly #o: SyncOptions;
  readonly #interval: number;
  readonly #backoff = new Backoff();
  readonly #watchBackoff = new Backoff();
  #timer: NodeJS.Timeout | undefined;
  #soon: NodeJS.Timeout | undefined;
  #running: Promise<boolean> | undefined;
  #again = false;
  #closed = false;
  #watchAbort: AbortController | undefined;
  #watchLoop: Promise<void> | undefined;
  #disowned = false;
  readonly #closing = new AbortController();
  readonly #answers = new AnswerMemo();
  lastSyncAt = 0;

  constructor(options: SyncOptions) {
    super();
    this.#o = options;
    this.#interval = options.intervalMs ?? 5000;
  }

  get disowned(): boolean {
    return this.#disowned;
  }

  start(): void {
    this.#schedule(0);
    this.#watchLoop = this.#watch();
  }

  /** The watch stream runs on the agent SVID's connection: after a renewal it reconnects. */
  restartWatch(): void {
    this.#watchAbort?.abort();
  }

  /** A full sync within ~50 ms (coalesced). */
  syncSoon(): void {
    if (this.#closed || this.#soon !== undefined) return;
    this.#soon = setTimeout(() => {
      this.#soon = undefined;
      void this.syncNow();
    }, 50);
  }

  /** Runs one full sync (or joins the running one, then runs again). Resolves true on success. */
  async syncNow(): Promise<boolean> {
    if (this.#running !== undefined) {
      this.#again = true;
      return this.#running;
    }
    this.#running = this.#sync().finally(() => {
      this.#running = undefined;
    });
    const ok = await this.#running;
    if (this.#again && !this.#closed) {
      this.#again = false;
      return this.syncNow();
    }
    return ok;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#closing.abort();
    clearTimeout(this.#timer);
    clearTimeout(this.#soon);
    this.#watchAbort?.abort();
    await this.#watchLoop;
    await this.#running;
  }

  #schedule(ms: number): void {
    if (this.#closed) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(async () => {
      const ok = await this.syncNow();
      this.#schedule(ok ? this.#interval : this.#backoff.next());
    }, ms);
  }

  async #sync(): Promise<boolean> {
    const { cache, identity, client, log } = this.#o;
    const d = identity.dispatcher;
    try {
      // An answer identical to the last one is not parsed again (AnswerMemo): the same objects come back.
      const read = async <T>(path: string, derive: (json: any) => T): Promise<T> => {
        const bytes = await client.callBytes(d, 'GET', path);
        return this.#answers.get(path, bytes, (b) => derive(parseAnswer(b, `${client.currentUrl}${path}`, 200)));
      };
      const [list, { own, federated }, revocations, policies] = await Promise.all([
        read('/agent/v1/entries', (json: { entries?: unknown[] }) => readEntries(json.entries ?? [], log)),
        read('/agent/v1/bundles', (json: { trustDomain: string; bundle: unknown; federated?: Record<string, unknown> }) => readBundles(json, log)),
        read('/agent/v1/revocations', (json: { revocations?: Revocation[] }) => json.revocations ?? []),
        read('/agent/v1/policies', (json: AgentPolicies): AgentPolicies => ({ revision: String(json.revision ?? ''), policies: json.policies ?? [] })),
      ]);
      // Revocations first: an SVID revoked and re-listed in one sync is dropped.
      cache.setRevocations(revocations);
      identity.setBundle(own);
      cache.setBundles(own, federated);
      const diff = cache.setEntries(list);
      cache.setPolicies(policies);
      if (diff.added + diff.removed + diff.changed > 0) log.info({ entries: list.length, ...diff }, 'entries synced');
      this.#backoff.reset();
      this.lastSyncAt = Date.now();
      if (this.#disowned) log.info({}, 'the server accepts this agent again');
      this.#disowned = false;
      this.emit('synced', diff);
      return true;
    } catch (err) {
      if (err instanceof AgentError && err.serverCode !== undefined && DISOWNED.has(err.serverCode)) {
        if (!this.#disowned) {
          log.error({ code: err.serverCode }, 'the server no longer trusts this agent: dropping every cached SVID');
          cache.clear();
          this.#disowned = true;
          this.emit('disowned', err);
        }
      } else {
        log.warn({ err: (err as Error).message }, 'sync with the server failed; serving from cache');
      }
      return false;
    }
  }

  async #watch(): Promise<void> {
    const { client, identity, log } = this.#o;
    while (!this.#closed) {
      const abort = new AbortController();
      this.#watchAbort = abort;
      let opened = false;
      try {
        const res = await request(`${client.currentUrl}/agent/v1/watch`, { method: 'GET', dispatcher: identity.dispatcher, signal: abort.signal, headersTimeout: 10_000, bodyTimeout: 60_000 });
        if (res.statusCode !== 200) {
          await res.body.text().catch(() => undefined);
          throw new Error(`watch: HTTP ${res.statusCode}`);
        }
        opened = true;
        this.#watchBackoff.reset();
        // Changes may have been missed while the stream was down.
        this.syncSoon();
        let pending = '';
        for await (const chunk of res.body) {
          pending += (chunk as Buffer).toString('utf8');
          if (pending.length > 1024 * 1024) throw new Error('watch: event too large');
          let idx: number;
          while ((idx = pending.indexOf('\n\n')) >= 0) {
            const event = pending.slice(0, idx);
            pending = pending.slice(idx + 2);
            if (/^event: ?change$/m.test(event)) this.syncSoon();
          }
        }
      } catch (err) {
        if (this.#closed) return;
        if (!abort.signal.aborted) log.debug({ err: (err as Error).message }, 'watch stream closed');
      }
      if (this.#closed) return;
      if (abort.signal.aborted) continue; // restartWatch(): reconnect at once
      if (!opened) client.rotate();
      await sleep(this.#watchBackoff.next(), this.#closing.signal);
    }
  }
}

/** The entries of an answer; a malformed one is left out (and logged). */
function readEntries(raw: readonly unknown[], log: SyncOptions['log']): AgentEntry[] {
  const list: AgentEntry[] = [];
  for (const item of raw) {
    try {
      list.push(readEntry(item));
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'an entry from the server is malformed; left out');
    }
  }
  return list;
}

/** Our bundle (an invalid one fails the sync) and the federated ones (an invalid one is left out, and logged). */
function readBundles(answer: { trustDomain: string; bundle: unknown; federated?: Record<string, unknown> }, log: SyncOptions['log']): { own: Bundle; federated: Map<string, Bundle> } {
  const own = Bundle.parse(JSON.stringify(answer.bundle), answer.trustDomain);
  const federated = new Map<string, Bundle>();
  for (const [td, doc] of Object.entries(answer.federated ?? {})) {
    try {
      federated.set(td, Bundle.parse(JSON.stringify(doc), td));
    } catch (err) {
      log.warn({ trustDomain: td, err: (err as Error).message }, 'federated bundle from the server is invalid; left out');
    }
  }
  return { own, federated };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });
}
