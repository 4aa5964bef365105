/**
 * The datastore as this replica's routes use it: every write, once
 * committed, is applied to the in-memory views at once (so a ban, a deleted
 * entry or a revocation takes effect on this replica before the response is
 * sent). Other replicas learn it from the change log within one poll.
 */
import type { Datastore } from '../store/datastore.js';
import type { AttestedAgent, RegistrationEntry } from '../store/types.js';

export interface WriteHooks {
  entryWritten(entry: RegistrationEntry): void;
  entryDeleted(entry: RegistrationEntry): void;
  agentWritten(agent: AttestedAgent): void;
  agentDeleted(agent: AttestedAgent): void;
  revocationsChanged(): Promise<void>;
}

export function writeThrough(store: Datastore, hooks: WriteHooks): Datastore {
  const after: Partial<Record<keyof Datastore, (result: any) => void | Promise<void>>> = {
    createEntries: (entries: RegistrationEntry[]) => entries.forEach((e) => hooks.entryWritten(e)),
    updateEntry: (e: RegistrationEntry) => hooks.entryWritten(e),
    deleteEntry: (e: RegistrationEntry) => hooks.entryDeleted(e),
    upsertAgent: (a: AttestedAgent) => hooks.agentWritten(a),
    banAgent: (a: AttestedAgent) => hooks.agentWritten(a),
    evictAgent: (a: AttestedAgent) => hooks.agentDeleted(a),
    addRevocation: () => hooks.revocationsChanged(),
  };
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      const hook = after[prop as keyof Datastore];
      if (hook === undefined) return (value as (...a: unknown[]) => unknown).bind(target);
      return async (...args: unknown[]) => {
        const result = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        await hook(result);
        return result;
      };
    },
  });
}
