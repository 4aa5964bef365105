/**
 * Who may call the admin API: the local admin socket, or an SVID whose ID is
 * a configured admin ID or the SPIFFE ID of an unexpired entry with
 * `admin: true`. Anyone else is refused: 401 without an SVID, 403 with one.
 */
import type { Caller, ServerContext } from '../server-context.js';
import { AdminError } from './admin-error.js';
import { epochSeconds } from '../../duration.js';

export const ADMIN_SOCKET_ACTOR = 'local-admin-socket';

/** The audit trail's name for a caller. */
export function actorOf(caller: Caller): string {
  switch (caller.kind) {
    case 'admin-socket':
      return ADMIN_SOCKET_ACTOR;
    case 'svid':
      return caller.id.toString();
    case 'anonymous':
      return `anonymous:${caller.sourceIp}`;
  }
}

/** Resolves when the caller is an admin; throws AdminError (401/403) otherwise. */
export async function authorizeAdmin(ctx: ServerContext, caller: Caller): Promise<void> {
  if (caller.kind === 'admin-socket') return;
  if (caller.kind === 'anonymous') {
    throw new AdminError('ERR_ADMIN_UNAUTHENTICATED', 'the admin API needs the admin socket or a client certificate with an admin SPIFFE ID');
  }
  const id = caller.id.toString();
  if (ctx.adminIds.has(id)) return;
  const nowSeconds = epochSeconds(ctx.now());
  const entries = await ctx.store.listEntries({ spiffeId: id });
  if (entries.some((e) => e.admin && (e.expiresAt === null || e.expiresAt > nowSeconds))) return;
  throw new AdminError('ERR_ADMIN_FORBIDDEN', `${id} is not an admin ID`);
}
