import type { Logger } from 'pino';
import type { Db } from '../storage/database.js';
import { type Ledger, userAccount } from './ledger.js';
import { billedUnits, chargeFor, type PriceList } from './pricing.js';

/**
 * After a crash (kill -9, power loss), calls the dead process left open are settled at their last
 * heartbeat: ended at the last moment both sides had media, charged exactly what that billable
 * time costs — the idempotent refs mean nothing is charged twice, whatever was posted before.
 */
export async function settleOpenCalls(db: Db, ledger: Ledger, price: PriceList, now: number, log: Logger): Promise<number> {
  const open = await db.selectFrom('calls').select(['id', 'user_a', 'user_b', 'matched_at', 'connected_at', 'a_media_until', 'b_media_until', 'billed_ms']).where('ended_at', 'is', null).execute();
  for (const c of open) {
    const lastMedia = c.a_media_until !== null && c.b_media_until !== null ? Math.min(Number(c.a_media_until), Number(c.b_media_until)) : null;
    const endedAt = Math.max(c.connected_at ?? c.matched_at, lastMedia ?? 0);
    await db.updateTable('calls').set({ ended_at: endedAt, end_reason: 'server_shutdown', state: 'ended', ended_by: null }).where('id', '=', c.id).where('ended_at', 'is', null).execute();
    const billed = Number(c.billed_ms);
    for (const userId of [c.user_a, c.user_b]) {
      const posted = -(await ledger.sumByRef(userAccount(userId), `call:${c.id}:${userId}:`));
      const target = chargeFor(billed, price);
      if (target <= posted) continue;
      await ledger.post(
        {
          ref: `call:${c.id}:${userId}:${billedUnits(billed, price.rounding)}`,
          kind: 'charge',
          entries: [{ account: userAccount(userId), amount: -(target - posted) }, { account: 'revenue', amount: target - posted }],
          meta: { callId: c.id, billedMs: billed, settledAfterCrash: true },
        },
        now,
      );
    }
  }
  if (open.length > 0) log.warn({ calls: open.length }, 'settled calls left open by a previous process');
  return open.length;
}
