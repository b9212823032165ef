import { randomUUID } from 'node:crypto';
import type { Db } from '../storage/database.js';
import type { Clock } from '../util/clock.js';

/** The classes nsfwjs scores a frame on; each 0..1, summing to about 1. */
export const SCREEN_CLASSES = ['Drawing', 'Hentai', 'Neutral', 'Porn', 'Sexy'] as const;
export type ScreenScores = Record<(typeof SCREEN_CLASSES)[number], number>;

/** The reports table's reason for a classifier's flag (not one a person can pick). */
export const SCREENING_REASON = 'screening';

/** What a frame is judged on: the explicit classes together. */
export function explicitScore(s: ScreenScores): number {
  return s.Porn + s.Hentai;
}

export interface ScreeningSettings {
  enabled: boolean;
  /** Per mode, `default` for the rest: explicit score at or above which a frame is flagged. */
  thresholds: Readonly<Record<string, number>>;
  holdViewers: number;
  flagsPerHour: number;
}

export interface FlagInput {
  viewerId: string;
  callId: string;
  /** Base64 JPEG of the flagged frame, nothing else. */
  jpegBase64: string;
  scores: ScreenScores;
  /** How long the viewer's classifier took on the frame, for the moderators' context. */
  ms?: number | undefined;
}

export type FlagOutcome =
  | { kind: 'filed'; reportId: string; flaggedId: string; viewers: number; held: boolean }
  /** This viewer already flagged this call: the first frame is the evidence, the rest add nothing. */
  | { kind: 'duplicate'; reportId: string }
  | { kind: 'not_your_call' }
  | { kind: 'below_threshold' }
  | { kind: 'rate_limited'; retryAfterMs: number };

const HOUR = 3_600_000;
/** A flag may arrive this long after its call ended (the classifier was still on the last frame). */
const LATE_FLAG_MS = 60_000;

/**
 * Screening flags from viewers' browsers: each is a report (reason `screening`) with the one flagged
 * frame and its scores as evidence, so moderators review it in the same queue. A flag never bans:
 * flags from `holdViewers` different viewers make a person count as reported (HOLD_REPORTED).
 */
export class Screening {
  readonly #db: Db;
  readonly #clock: Clock;
  readonly settings: Readonly<ScreeningSettings>;

  constructor(db: Db, clock: Clock, settings: ScreeningSettings) {
    this.#db = db;
    this.#clock = clock;
    this.settings = Object.freeze({ ...settings });
  }

  /** The lowest threshold of any mode: a flag's scores must reach at least this. */
  get floor(): number {
    return Math.min(...Object.values(this.settings.thresholds));
  }

  async flag(f: FlagInput): Promise<FlagOutcome> {
    const now = this.#clock.now();
    // Only someone in the call may flag it, and only while it runs (or just after).
    const call = await this.#db.selectFrom('calls').select(['user_a', 'user_b', 'ended_at']).where('id', '=', f.callId).executeTakeFirst();
    if (!call || (call.user_a !== f.viewerId && call.user_b !== f.viewerId)) return { kind: 'not_your_call' };
    if (call.ended_at !== null && Number(call.ended_at) < now - LATE_FLAG_MS) return { kind: 'not_your_call' };
    if (explicitScore(f.scores) < this.floor) return { kind: 'below_threshold' };
    const flaggedId = call.user_a === f.viewerId ? call.user_b : call.user_a;

    const earlier = await this.#db
      .selectFrom('reports')
      .select('id')
      .where('call_id', '=', f.callId)
      .where('reporter_id', '=', f.viewerId)
      .where('reason', '=', SCREENING_REASON)
      .executeTakeFirst();
    if (earlier) return { kind: 'duplicate', reportId: earlier.id };
    const recent = await this.#db
      .selectFrom('reports')
      .select('created_at')
      .where('reporter_id', '=', f.viewerId)
      .where('reason', '=', SCREENING_REASON)
      .where('created_at', '>', now - HOUR)
      .orderBy('created_at', 'asc')
      .execute();
    if (recent.length >= this.settings.flagsPerHour)
      return { kind: 'rate_limited', retryAfterMs: Math.max(1000, Number(recent[0]!.created_at) + HOUR - now) };

    const reportId = randomUUID();
    const scores = Object.fromEntries(SCREEN_CLASSES.map((c) => [c, Math.round(f.scores[c] * 10_000) / 10_000]));
    await this.#db
      .insertInto('reports')
      .values({
        id: reportId,
        call_id: f.callId,
        reporter_id: f.viewerId,
        reported_id: flaggedId,
        reason: SCREENING_REASON,
        comment: null,
        created_at: now,
        transcript: null,
        frame_jpeg: f.jpegBase64,
        screen_scores: JSON.stringify({ ...scores, ...(f.ms !== undefined ? { ms: Math.round(f.ms) } : {}) }),
      })
      .execute();
    const viewers = await this.viewersFlagging(flaggedId);
    return { kind: 'filed', reportId, flaggedId, viewers, held: this.settings.holdViewers > 0 && viewers >= this.settings.holdViewers };
  }

  /** The per-person signal: how many different viewers have open flags against this person. */
  async viewersFlagging(userId: string): Promise<number> {
    return (await viewersFlagging(this.#db, [userId])).get(userId) ?? 0;
  }
}

/** Per person, the number of different viewers with open screening flags against them. */
export async function viewersFlagging(db: Db, userIds: readonly string[]): Promise<Map<string, number>> {
  if (userIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('reports')
    .select(['reported_id', (eb) => eb.fn.count<number | string>('reporter_id').distinct().as('n')])
    .where('reported_id', 'in', [...userIds])
    .where('reason', '=', SCREENING_REASON)
    .where('status', '=', 'open')
    .groupBy('reported_id')
    .execute();
  return new Map(rows.map((r) => [r.reported_id, Number(r.n)]));
}
