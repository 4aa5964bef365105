/** This replica's stable ID: a random UUID kept in DATA/replica-id (created once, 0600). */
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ID = /^[A-Za-z0-9-]{8,64}$/;

export function loadReplicaId(dataDir: string): string {
  const path = join(dataDir, 'replica-id');
  try {
    const id = readFileSync(path, 'utf8').trim();
    if (ID.test(id)) return id;
  } catch {
    /* first start */
  }
  const id = randomUUID();
  writeFileSync(path, `${id}\n`, { mode: 0o600 });
  return id;
}
