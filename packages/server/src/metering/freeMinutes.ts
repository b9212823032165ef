import type { Db } from '../storage/database.js';
import { DAY_MS } from './pricing.js';

/**
 * The free time used by a person's calls that connected on the UTC day starting at `dayStart`:
 * each call used min(its billable time, its allowance for that person); a call without an
 * allowance (the feature off, calls free) used none. `exceptCallId` leaves out the call asking.
 */
export async function freeUsedOn(db: Db, userId: string, dayStart: number, exceptCallId?: string): Promise<number> {
  const rows = await db
    .selectFrom('calls')
    .select(['id', 'user_a', 'billed_ms', 'a_free_ms', 'b_free_ms'])
    .where((eb) => eb.or([eb('user_a', '=', userId), eb('user_b', '=', userId)]))
    .where('connected_at', '>=', dayStart)
    .where('connected_at', '<', dayStart + DAY_MS)
    .execute();
  let used = 0;
  for (const r of rows) {
    if (r.id === exceptCallId) continue;
    const allowance = Number((r.user_a === userId ? r.a_free_ms : r.b_free_ms) ?? 0);
    used += Math.max(0, Math.min(Number(r.billed_ms), allowance));
  }
  return used;
}
