import { randomUUID } from 'node:crypto';
import type { ReportReason } from '@duet/protocol';
import type { Db } from '../storage/database.js';
import { SCREENING_REASON, viewersFlagging } from './screening.js';

/** Blocks and reports. A block holds in both directions: the two are never matched again. */
export class SafetyRepository {
  readonly #db: Db;
  #screenHoldViewers = 0;
  constructor(db: Db) {
    this.#db = db;
  }

  /** Screening flags count toward a hold once this many different viewers filed them (0: never). Set once at start. */
  holdOnScreeningFlags(viewers: number): void {
    this.#screenHoldViewers = viewers;
  }

  async block(blockerId: string, blockedId: string, callId: string | null, now: number): Promise<void> {
    await this.#db
      .insertInto('blocks')
      .values({ blocker_id: blockerId, blocked_id: blockedId, call_id: callId, created_at: now })
      .onConflict((oc) => oc.columns(['blocker_id', 'blocked_id']).doNothing())
      .execute();
  }

  /** Everyone this user must never be matched with: people they blocked and people who blocked them. */
  async blockedWith(userId: string): Promise<Set<string>> {
    const rows = await this.#db
      .selectFrom('blocks')
      .select(['blocker_id', 'blocked_id'])
      .where((eb) => eb.or([eb('blocker_id', '=', userId), eb('blocked_id', '=', userId)]))
      .execute();
    return new Set(rows.map((r) => (r.blocker_id === userId ? r.blocked_id : r.blocker_id)));
  }

  async report(r: {
    id?: string;
    callId: string;
    reporterId: string;
    reportedId: string;
    reason: ReportReason;
    comment?: string | undefined;
    transcript?: Array<{ from: 'reporter' | 'reported'; text: string; at: number }>;
    now: number;
  }): Promise<string> {
    const id = r.id ?? randomUUID();
    await this.#db
      .insertInto('reports')
      .values({
        id,
        call_id: r.callId,
        reporter_id: r.reporterId,
        reported_id: r.reportedId,
        reason: r.reason,
        comment: r.comment ?? null,
        created_at: r.now,
        transcript: r.transcript ? JSON.stringify(r.transcript) : null,
      })
      .execute();
    return id;
  }

  /**
   * How many reports against this person nobody has reviewed yet. Screening flags (a classifier's, not
   * a person's) count only once flags from enough different viewers agree: one frame never holds anyone.
   */
  async openReportsAgainst(userId: string): Promise<number> {
    const row = await this.#db
      .selectFrom('reports')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('reported_id', '=', userId)
      .where('status', '=', 'open')
      .where('reason', '!=', SCREENING_REASON)
      .executeTakeFirstOrThrow();
    if (this.#screenHoldViewers === 0) return Number(row.n);
    const viewers = (await viewersFlagging(this.#db, [userId])).get(userId) ?? 0;
    return Number(row.n) + (viewers >= this.#screenHoldViewers ? viewers : 0);
  }

  async reportsAgainst(userId: string): Promise<{ reason: string; callId: string }[]> {
    const rows = await this.#db.selectFrom('reports').select(['reason', 'call_id']).where('reported_id', '=', userId).execute();
    return rows.map((r) => ({ reason: r.reason, callId: r.call_id }));
  }
}
