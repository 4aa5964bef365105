/**
 * The local admin socket: plain HTTP over a Unix socket (DATA/admin.sock),
 * mode 0600, serving only the admin API; every caller on it is the local
 * admin. A stale socket file (no server answers on it) is removed at start;
 * a live one means another server runs on this data directory.
 */
import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import { connect } from 'node:net';
import { ServerError } from './server-error.js';

/** Removes a socket file nobody listens on; refuses when a server answers on it. */
export async function clearStaleSocket(path: string): Promise<void> {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return;
  }
  if (!st.isSocket()) throw new ServerError('ERR_SERVER_LISTEN', 1, `${path} exists and is not a socket; remove it or choose another admin_socket`);
  const live = await new Promise<boolean>((resolve) => {
    const s = connect({ path });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
  if (live) throw new ServerError('ERR_SERVER_LISTEN', 1, `another server is listening on ${path}; stop it or use another data_dir`);
  unlinkSync(path);
}

export function restrictSocket(path: string): void {
  chmodSync(path, 0o600);
}

export function removeSocket(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    /* already gone */
  }
}
