/**
 * CA rotation as SPIRE's CA manager does it (pkg/server/ca/manager): each kind
 * of authority (X.509 CA, JWT key) moves PREPARED → ACTIVE → OLD.
 *
 * - Prepare the next authority once the active one passes
 *   `notAfter − min(lifetime/2, 30 days)`; it enters the bundle at once, so
 *   verifiers learn it well before anything is signed with it.
 * - Activate it at `notAfter − min(lifetime/6, 7 days)` of the active one,
 *   which becomes OLD: SVIDs it signed stay verifiable.
 * - Drop any authority once it has expired (an OLD one, or anything left
 *   behind by a long downtime); with no usable active authority, activate the
 *   prepared one or create a new one.
 *
 * `advanceAuthorities` is pure apart from `create` (which generates a key):
 * the same authorities at the same `now` give the same moves.
 */

export type AuthorityStatus = 'PREPARED' | 'ACTIVE' | 'OLD';

export interface RotatingAuthority<T> {
  readonly status: AuthorityStatus;
  readonly notBefore: Date;
  readonly notAfter: Date;
  withStatus(status: AuthorityStatus): T;
}

const DAY_MS = 86_400_000;

/** When the successor of `active` is prepared. */
export function prepareAt(active: { notBefore: Date; notAfter: Date }): Date {
  const lifetime = active.notAfter.getTime() - active.notBefore.getTime();
  return new Date(active.notAfter.getTime() - Math.min(lifetime / 2, 30 * DAY_MS));
}

/** When the prepared successor replaces `active`. */
export function activateAt(active: { notBefore: Date; notAfter: Date }): Date {
  const lifetime = active.notAfter.getTime() - active.notBefore.getTime();
  return new Date(active.notAfter.getTime() - Math.min(lifetime / 6, 7 * DAY_MS));
}

/**
 * Moves the authorities of one kind to their state at `now`. `create` makes a
 * new authority with the given status (valid from `now`). Returns the new list
 * (oldest first) and whether anything changed.
 */
export function advanceAuthorities<T extends RotatingAuthority<T>>(
  current: readonly T[],
  now: Date,
  create: (status: AuthorityStatus) => T,
): { authorities: T[]; changed: boolean } {
  let list = [...current];
  let changed = false;
  // Each pass makes at most one move of each kind; a few passes settle any state.
  for (let pass = 0; pass < 4; pass++) {
    let moved = false;
    const live = list.filter((a) => a.notAfter.getTime() > now.getTime());
    if (live.length !== list.length) {
      list = live;
      moved = true;
    }
    const active = list.find((a) => a.status === 'ACTIVE');
    const prepared = list.find((a) => a.status === 'PREPARED');
    if (active === undefined) {
      list = prepared === undefined ? [...list, create('ACTIVE')] : list.map((a) => (a === prepared ? a.withStatus('ACTIVE') : a));
      moved = true;
    } else if (prepared === undefined) {
      if (now >= prepareAt(active)) {
        const next = create('PREPARED');
        // Under an upstream CA about to expire, a successor may gain nothing: keep the current one.
        if (next.notAfter > active.notAfter) {
          list = [...list, next];
          moved = true;
        }
      }
    } else if (now >= activateAt(active)) {
      list = list.map((a) => (a === active ? a.withStatus('OLD') : a === prepared ? a.withStatus('ACTIVE') : a));
      moved = true;
    }
    if (!moved) break;
    changed = true;
  }
  return { authorities: list, changed };
}
