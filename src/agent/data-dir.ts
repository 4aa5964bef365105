/**
 * The agent's data directory (0700): its own SVID (`agent-svid.pem`), its key
 * (`agent-key.pem`, 0600) and the latest bundle of its trust domain from the
 * server (`bundle.json`). Files are replaced atomically (write, fsync,
 * rename), so a kill -9 leaves the old or the new file, never half of one.
 * Workload keys are never written here: they live in memory only.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../atomic-file.js';
import { AgentError } from './agent-error.js';

export const AGENT_SVID_FILE = 'agent-svid.pem';
export const AGENT_KEY_FILE = 'agent-key.pem';
export const BUNDLE_FILE = 'bundle.json';

export class DataDir {
  readonly path: string;

  constructor(path: string) {
    this.path = path;
    try {
      mkdirSync(path, { recursive: true, mode: 0o700 });
      const st = statSync(path);
      if (!st.isDirectory()) throw new Error('not a directory');
      if ((st.mode & 0o777) !== 0o700) chmodSync(path, 0o700);
    } catch (err) {
      throw new AgentError('ERR_AGENT_DATA_DIR', `data directory ${path}: ${(err as Error).message}`, { cause: err });
    }
  }

  read(name: string): string | undefined {
    const file = join(this.path, name);
    if (!existsSync(file)) return undefined;
    return readFileSync(file, 'utf8');
  }

  /** Atomically replaces `name` with `content` (mode 0600). */
  write(name: string, content: string): void {
    writeFileAtomic(join(this.path, name), content, { replace: true });
  }

  /** Writes several files, each atomically; the key first so a crash never leaves a chain without its key. */
  writeAll(files: ReadonlyArray<[string, string]>): void {
    for (const [name, content] of files) this.write(name, content);
  }

  remove(name: string): void {
    try {
      unlinkSync(join(this.path, name));
    } catch {
      // absent already
    }
  }
}
