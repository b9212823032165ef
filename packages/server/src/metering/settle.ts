import type { Logger } from 'pino';
import type { RestoredCall } from '../calls/calls.js';
import { CallRecords } from '../calls/recorder.js';
import type { Db } from '../storage/database.js';
import { postCallCharge } from './charge.js';
import { type Ledger, userAccount } from './ledger.js';
import { type MeterState, parseMeterState } from './meter.js';
import { billedUnits, chargeFor, paidMs, type PriceList } from './pricing.js';

/** A connected call a previous process left open, which its people may still come back to. */
export interface ResumableCall extends RestoredCall {
  meter: MeterState;
  /** What each person was already charged for the call (from the ledger). */
  charged: { a: number; b: number };
}

/**
 * Posts what a finished call still owes for one person: what its billable time costs (free time
 * first; the ref names the paid units) less what was already posted, down to the balance floor
 * and never past it. Idempotent: a second run finds nothing owed (or the same ref) and posts nothing.
 */
async function postWhatIsOwed(
  ledger: Ledger,
  price: PriceList,
  o: { callId: string; userId: string; billedMs: number; freeMs: number; overdraftMicros: number; why: Record<string, unknown> },
  now: number,
): Promise<number> {
  const account = userAccount(o.userId);
  const already = -(await ledger.sumByRef(account, `call:${o.callId}:${o.userId}:`));
  const paid = paidMs(o.billedMs, o.freeMs);
  const owed = chargeFor(paid, price) - already;
  if (owed <= 0) return 0;
  const units = billedUnits(paid, price.rounding);
  const meta = { callId: o.callId, billedMs: o.billedMs, ...(o.freeMs > 0 ? { freeMs: o.freeMs } : {}), ...o.why };
  return (
    await postCallCharge(ledger, { callId: o.callId, userId: o.userId, units, amount: owed, overdraftMicros: o.overdraftMicros, meta }, now)
  ).amount;
}

/**
 * The ledger against the call records: a finished call whose final charge did not land (the
 * database was briefly unreachable, the process died between the two writes) is charged now.
 * Runs at start (every call the previous process ended) and every hour over calls that ended
 * between `since` and `until` — never over calls that ended moments ago, whose last postings may
 * still be on their way (the meter and this pass would then both post).
 */
export async function reconcileCharges(
  db: Db,
  ledger: Ledger,
  price: PriceList,
  o: { since: number; until: number; now: number; overdraftMicros: number; log: Logger },
): Promise<number> {
  if (price.perMinuteMicros === 0) return 0;
  const ended = await db
    .selectFrom('calls')
    .select(['id', 'user_a', 'user_b', 'billed_ms', 'a_free_ms', 'b_free_ms'])
    .where('ended_at', '>=', o.since)
    .where('ended_at', '<', o.until)
    .where('billed_ms', '>', 0)
    .execute();
  let fixed = 0;
  for (const c of ended) {
    for (const [userId, freeMs] of [
      [c.user_a, c.a_free_ms],
      [c.user_b, c.b_free_ms],
    ] as const) {
      const posted = await postWhatIsOwed(
        ledger,
        price,
        {
          callId: c.id,
          userId,
          billedMs: Number(c.billed_ms),
          freeMs: Number(freeMs ?? 0),
          overdraftMicros: o.overdraftMicros,
          why: { reconciled: true },
        },
        o.now,
      );
      if (posted > 0) fixed += 1;
    }
  }
  if (fixed > 0) o.log.warn({ charges: fixed }, 'reconciled charges that had not been posted');
  return fixed;
}

export interface RecoverOptions {
  /**
   * Connected calls with media this recently are handed back to be resumed when their people
   * reconnect (null: settle everything now, as a node of a cluster does not resume).
   */
  resumeWithinMs: number | null;
  /** How far a balance may go below zero (settlement never takes it further). */
  overdraftMicros?: number;
  /** With several nodes: only the calls these nodes kept (a dead node's, or this node's previous life). */
  nodes?: readonly string[];
}

/**
 * After a crash (kill -9, power loss), calls the dead process left open are either resumed — a
 * connected call whose media was flowing moments ago goes back to the lobby, and its people have
 * the reconnect grace window to come back to it — or settled at their last heartbeat: ended at the
 * last moment both sides had media, charged exactly what that billable time costs. The idempotent
 * refs mean nothing is charged twice, whatever was posted before.
 */
export async function recoverOpenCalls(
  db: Db,
  ledger: Ledger,
  price: PriceList,
  now: number,
  log: Logger,
  options: RecoverOptions,
): Promise<ResumableCall[]> {
  const open = await db
    .selectFrom('calls')
    .select([
      'id',
      'user_a',
      'user_b',
      'matched_at',
      'connecting_at',
      'connected_at',
      'a_wait_ms',
      'b_wait_ms',
      'reconnects',
      'reconnecting_ms',
      'relay_only',
      'a_media_until',
      'b_media_until',
      'billed_ms',
      'meter_state',
      'a_free_ms',
      'b_free_ms',
    ])
    .where('ended_at', 'is', null)
    .$if(options.nodes !== undefined, (q) => q.where('node', 'in', options.nodes!.length > 0 ? [...options.nodes!] : ['']))
    .execute();
  const resumable: ResumableCall[] = [];
  let settled = 0;
  for (const c of open) {
    const posted = async (userId: string) => -(await ledger.sumByRef(userAccount(userId), `call:${c.id}:${userId}:`));
    const meter = parseMeterState(c.meter_state);
    const free = { a: Number(c.a_free_ms ?? 0), b: Number(c.b_free_ms ?? 0) };
    // The allowance is written to the row and to the state together; should only the row have it, it counts.
    if (meter && !meter.free && (c.a_free_ms !== null || c.b_free_ms !== null)) meter.free = free;
    const lastSeen = meter ? Math.max(meter.a.lastEvidence, meter.b.lastEvidence) : null;
    if (
      options.resumeWithinMs !== null &&
      c.connected_at !== null &&
      meter &&
      lastSeen !== null &&
      now - lastSeen <= options.resumeWithinMs
    ) {
      resumable.push({
        id: c.id,
        a: c.user_a,
        b: c.user_b,
        matchedAt: Number(c.matched_at),
        connectingAt: c.connecting_at === null ? null : Number(c.connecting_at),
        connectedAt: Number(c.connected_at),
        waitMs: { a: Number(c.a_wait_ms ?? 0), b: Number(c.b_wait_ms ?? 0) },
        reconnects: Number(c.reconnects),
        reconnectingMs: Number(c.reconnecting_ms),
        relayOnly: Number(c.relay_only) === 1,
        meter,
        charged: { a: await posted(c.user_a), b: await posted(c.user_b) },
      });
      continue;
    }
    settled += 1;
    const lastMedia =
      c.a_media_until !== null && c.b_media_until !== null ? Math.min(Number(c.a_media_until), Number(c.b_media_until)) : null;
    const endedAt = Math.max(Number(c.connected_at ?? c.matched_at), lastMedia ?? 0);
    await CallRecords.closeUnended(db, c.id, endedAt);
    const billed = Number(c.billed_ms);
    for (const [userId, freeMs] of [
      [c.user_a, free.a],
      [c.user_b, free.b],
    ] as const) {
      await postWhatIsOwed(
        ledger,
        price,
        { callId: c.id, userId, billedMs: billed, freeMs, overdraftMicros: options.overdraftMicros ?? 0, why: { settledAfterCrash: true } },
        now,
      );
    }
  }
  if (settled > 0) log.warn({ calls: settled }, 'settled calls left open by a previous process');
  if (resumable.length > 0)
    log.warn({ calls: resumable.length }, 'calls left open by a previous process can be resumed: waiting for their people');
  return resumable;
}
