/**
 * Writes a secret-bearing file atomically: through a temp file opened 0600
 * from the start (`wx`, a random name: never an existing file or a planted
 * symlink), fsync, then rename — or, when nothing may be replaced, a hard
 * link, which fails if the target exists.
 */
import { closeSync, fsyncSync, linkSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';

export function writeFileAtomic(path: string, data: string, opts: { replace: boolean }): void {
  const tmp = `${path}.tmp-${randomBytes(6).toString('hex')}`;
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeSync(fd, data);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    unlinkQuietly(tmp);
    throw err;
  }
  closeSync(fd);
  try {
    if (opts.replace) renameSync(tmp, path);
    else linkSync(tmp, path);
  } finally {
    // after a rename the name is gone; after a link (or a failure) it must go
    unlinkQuietly(tmp);
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    /* already gone */
  }
}
