/**
 * User and group names from /etc/passwd and /etc/group, parsed carefully:
 * comments, blank and malformed lines are skipped; the first line for an id
 * wins (as getpwuid does); a name with characters outside the portable set
 * is not used. Each file is re-read only when its mtime or size changes.
 */
import { readFileSync, statSync } from 'node:fs';

const NAME = /^[A-Za-z0-9._][A-Za-z0-9._-]{0,63}\$?$/;
const MAX_FILE_BYTES = 16 * 1024 * 1024;

/** id → name from passwd-style text (`name:x:id:…` with the id in field 3). */
export function parseNameFile(text: string, minFields: number): Map<number, string> {
  const out = new Map<number, string>();
  for (const line of text.split('\n')) {
    if (line.length === 0 || line.startsWith('#') || line.startsWith('+') || line.startsWith('-')) continue;
    const fields = line.split(':');
    if (fields.length < minFields) continue;
    const [name, , idText] = fields;
    if (name === undefined || idText === undefined || !NAME.test(name) || !/^\d{1,10}$/.test(idText)) continue;
    const id = Number(idText);
    if (id > 0xffffffff || out.has(id)) continue;
    out.set(id, name);
  }
  return out;
}

export class NameDb {
  readonly #path: string;
  readonly #minFields: number;
  #key = '';
  #names = new Map<number, string>();

  constructor(path: string, minFields: number) {
    this.#path = path;
    this.#minFields = minFields;
  }

  async nameOf(id: number): Promise<string | undefined> {
    try {
      const st = statSync(this.#path); // a cheap stat per call; the file is re-read only when it changed
      const key = `${st.mtimeMs}:${st.size}:${st.ino}`;
      if (key !== this.#key) {
        if (st.size > MAX_FILE_BYTES) return undefined;
        this.#names = parseNameFile(readFileSync(this.#path, 'utf8'), this.#minFields);
        this.#key = key;
      }
    } catch {
      return undefined;
    }
    return this.#names.get(id);
  }
}

export const passwdDb = (path = '/etc/passwd'): NameDb => new NameDb(path, 7);
export const groupDb = (path = '/etc/group'): NameDb => new NameDb(path, 3);
