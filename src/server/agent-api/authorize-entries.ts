/**
 * The CVE-2021-27098 check: an agent gets SVIDs only for entries it may
 * serve. Any other entry ID in a request refuses the whole request (403),
 * and the route's audit record says which.
 */
import type { RegistrationEntry } from '../../store/types.js';
import { SpiffeId } from '../../spiffe/spiffe-id.js';
import { denied } from '../server-error.js';
import type { AgentApiDeps } from './deps.js';
import type { AuditNote } from './route.js';

export function authorizedEntriesFor(deps: AgentApiDeps, agentId: string, entryIds: readonly string[], note: AuditNote): RegistrationEntry[] {
  const allowed = new Map<string, RegistrationEntry>();
  for (const e of deps.ctx.entries.authorizedEntries(SpiffeId.parse(agentId))) allowed.set(e.id, e);
  const refused = entryIds.filter((id) => !allowed.has(id));
  if (refused.length > 0) {
    note.detail.refusedEntryIds = refused.slice(0, 20);
    throw denied(`agent ${agentId} may not sign for ${refused.length === 1 ? `entry ${refused[0]}` : `${refused.length} of the requested entries`} (not an entry it serves)`);
  }
  const entries = entryIds.map((id) => allowed.get(id)!);
  for (const e of entries) {
    if (deps.revocations.revocationOf(e.spiffeId) !== undefined) {
      note.detail.revokedSpiffeId = e.spiffeId;
      throw denied(`${e.spiffeId} is revoked; no new SVIDs are issued for it`, 'ERR_SERVER_REVOKED');
    }
  }
  return entries;
}
