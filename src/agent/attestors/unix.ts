/**
 * The `unix` workload attestor (SPIRE's, on Linux): `unix:uid:N`,
 * `unix:user:NAME`, `unix:gid:N`, `unix:group:NAME`,
 * `unix:supplementary_gid:N`, `unix:supplementary_group:NAME`, and with
 * `discoverWorkloadPath` (default on) `unix:path:/abs/exe` and
 * `unix:sha256:HEX`. The pid itself is never a selector.
 */
import type { PeerCredentials } from '../peer-credentials.js';
import { ExeHasher } from './exe-hash.js';
import { groupDb, passwdDb, type NameDb } from './name-db.js';
import { linuxProc, type ProcReader } from './proc.js';
import type { Selector, WorkloadAttestor } from './workload-attestor.js';

export interface UnixAttestorOptions {
  /** Selectors `unix:path` and `unix:sha256` (default true). */
  readonly discoverWorkloadPath?: boolean;
  /** Largest executable hashed, in bytes (default 256 MiB). */
  readonly workloadSizeLimit?: number;
  /**
   * Whether `unix:sha256` is worth computing now (default: always). The
   * agent says yes only while some entry selects on it: hashing reads the
   * whole executable (node: ~100 MB, ~200 ms) on the first call of every
   * new binary. Callers attested without it are attested again when it
   * becomes wanted (ConnectionAttestations' generation).
   */
  readonly hashWanted?: () => boolean;
  readonly proc?: ProcReader;
  readonly passwd?: NameDb;
  readonly group?: NameDb;
}

export class UnixAttestor implements WorkloadAttestor {
  readonly name = 'unix';
  readonly #discover: boolean;
  readonly #proc: ProcReader;
  readonly #passwd: NameDb;
  readonly #group: NameDb;
  readonly #hasher: ExeHasher;
  readonly #hashWanted: () => boolean;

  constructor(options: UnixAttestorOptions = {}) {
    this.#discover = options.discoverWorkloadPath ?? true;
    this.#proc = options.proc ?? linuxProc;
    this.#passwd = options.passwd ?? passwdDb();
    this.#group = options.group ?? groupDb();
    this.#hasher = new ExeHasher(options.workloadSizeLimit ?? 256 * 1024 * 1024);
    this.#hashWanted = options.hashWanted ?? (() => true);
  }

  async attest(peer: PeerCredentials): Promise<Selector[]> {
    const out: Selector[] = [];
    const add = (value: string): void => void out.push({ type: 'unix', value });
    add(`uid:${peer.uid}`);
    const user = await this.#passwd.nameOf(peer.uid);
    if (user !== undefined) add(`user:${user}`);
    add(`gid:${peer.gid}`);
    const group = await this.#group.nameOf(peer.gid);
    if (group !== undefined) add(`group:${group}`);
    const status = await this.#proc.status(peer.pid);
    for (const gid of new Set(status.groups)) {
      add(`supplementary_gid:${gid}`);
      const name = await this.#group.nameOf(gid);
      if (name !== undefined) add(`supplementary_group:${name}`);
    }
    if (this.#discover) {
      const exe = await this.#proc.exe(peer.pid);
      // A deleted executable reads as "/path (deleted)": not a path an entry should match.
      if (exe.startsWith('/') && !exe.endsWith(' (deleted)')) add(`path:${exe}`);
      if (this.#hashWanted()) {
        const digest = await this.#hasher.hash(peer.pid);
        if (digest !== undefined) add(`sha256:${digest}`);
      }
    }
    return out;
  }
}
