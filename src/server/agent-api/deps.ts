/** What the agent API needs beyond the ServerContext: the runtime's caches, limits and the watch hub. */
import type { AgentCache } from '../agent-cache.js';
import type { RateLimits } from '../rate-limits.js';
import type { RevocationCache } from '../revocation-cache.js';
import type { ServerContext } from '../server-context.js';
import type { AttestedAgent } from '../../store/types.js';
import type { WatchHub } from './watch-hub.js';

export interface AgentApiDeps {
  readonly ctx: ServerContext;
  readonly agents: AgentCache;
  readonly revocations: RevocationCache;
  readonly limits: RateLimits;
  readonly watch: WatchHub;
}

/** The authenticated agent of a request. */
export interface AgentSession {
  readonly agent: AttestedAgent;
  readonly spiffeId: string;
}
