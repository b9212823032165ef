import { randomUUID } from 'node:crypto';
import { LIVENESS_ACTIONS, type LivenessAction } from '@duet/protocol';
import { RULES_VERSION } from '../identity/users.js';
import type { Db } from '../storage/database.js';
import type { Clock } from '../util/clock.js';
import type { Challenge, NonceStore, TakeResult } from './challenge.js';

/**
 * Issued challenges in the database, so a nonce stays single-use across restarts and across the
 * nodes of a cluster: `take` is one conditional UPDATE, and of two concurrent takes exactly one
 * changes the row.
 */
export class SqlNonceStore implements NonceStore {
  constructor(
    readonly db: Db,
    readonly clock: Clock,
  ) {}

  async put(c: Challenge): Promise<void> {
    await this.db
      .insertInto('verification_challenges')
      .values({
        nonce: c.nonce,
        user_id: c.subject,
        actions: c.actions.join(','),
        issued_at: c.issuedAt,
        deadline: c.deadline,
        used_at: null,
      })
      .execute();
  }

  async take(nonce: string, subject: string): Promise<TakeResult> {
    // Only the person it was issued to can spend it: a leaked nonce is useless to anyone else.
    const updated = await this.db
      .updateTable('verification_challenges')
      .set({ used_at: this.clock.now() })
      .where('nonce', '=', nonce)
      .where('user_id', '=', subject)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    const row = await this.db
      .selectFrom('verification_challenges')
      .selectAll()
      .where('nonce', '=', nonce)
      .where('user_id', '=', subject)
      .executeTakeFirst();
    if (!row) return { kind: 'unknown' };
    if (Number(updated.numUpdatedRows) !== 1) return { kind: 'used' };
    const actions = row.actions.split(',').filter((a): a is LivenessAction => (LIVENESS_ACTIONS as readonly string[]).includes(a));
    return {
      kind: 'fresh',
      challenge: { nonce: row.nonce, subject: row.user_id, actions, issuedAt: Number(row.issued_at), deadline: Number(row.deadline) },
    };
  }

  /** Challenges nobody can answer any more are kept a day (for the attempt log), then removed. */
  async prune(now: number): Promise<void> {
    await this.db
      .deleteFrom('verification_challenges')
      .where('issued_at', '<', now - 24 * 3600_000)
      .execute();
  }
}

export interface AttemptRecord {
  userId: string;
  at: number;
  ok: boolean;
  reasons: readonly string[];
  ms: number;
  scores: Readonly<{ [key: string]: number }> | object;
}

export interface AgeRecord {
  /** Whole years, as the last check estimated. */
  estimate: number | null;
  status: 'passed' | 'refused' | 'review' | 'confirmed' | null;
  checkedAt: number;
  /** What the person wrote when asking for a review. */
  note: string | null;
}

export type RequestKind = 'challenge' | 'upload';

/** At most `max` requests of a kind per `windowMs`, per person or per (hashed) address. */
export interface RequestLimit {
  kind: RequestKind;
  by: 'person' | 'address';
  max: number;
  windowMs: number;
}

/** Who is verified until when, and the log of attempts (rate limit, moderators' view). */
export class VerificationRepository {
  constructor(readonly db: Db) {}

  /** Whether the person accepted the current house rules. */
  async rulesAccepted(userId: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('users')
      .select(['rules_accepted_at', 'rules_version'])
      .where('id', '=', userId)
      .executeTakeFirst();
    return row !== undefined && row.rules_accepted_at !== null && row.rules_version === RULES_VERSION;
  }

  /**
   * Counts a challenge or upload against the limits, or refuses it: the row is written first and the
   * window counted after, so concurrent requests (on any node) can only under-admit, never over-admit;
   * a refused request removes its row. Returns the limit broken and when it frees up, or undefined.
   */
  async admit(
    kind: RequestKind,
    userId: string,
    addressHash: string,
    now: number,
    limits: readonly RequestLimit[],
  ): Promise<{ limit: RequestLimit; retryAfterMs: number } | undefined> {
    const id = randomUUID();
    await this.db.insertInto('verification_requests').values({ id, kind, user_id: userId, address_hash: addressHash, at: now }).execute();
    for (const limit of limits.filter((l) => l.kind === kind)) {
      const rows = await this.db
        .selectFrom('verification_requests')
        .select('at')
        .where('kind', '=', kind)
        .where(limit.by === 'person' ? 'user_id' : 'address_hash', '=', limit.by === 'person' ? userId : addressHash)
        .where('at', '>', now - limit.windowMs)
        .orderBy('at', 'desc')
        .limit(limit.max + 1)
        .execute();
      if (rows.length > limit.max) {
        await this.db.deleteFrom('verification_requests').where('id', '=', id).execute();
        // The oldest request still counted leaves the window first.
        return { limit, retryAfterMs: Math.max(1000, Number(rows[limit.max]!.at) + limit.windowMs - now) };
      }
    }
    return undefined;
  }

  /** Request counts are kept a day, then removed. */
  async pruneRequests(now: number): Promise<void> {
    await this.db
      .deleteFrom('verification_requests')
      .where('at', '<', now - 24 * 3600_000)
      .execute();
  }

  async verifiedUntil(userId: string): Promise<number | null> {
    const row = await this.db.selectFrom('users').select('verified_until').where('id', '=', userId).executeTakeFirst();
    return row?.verified_until === null || row?.verified_until === undefined ? null : Number(row.verified_until);
  }

  async setVerifiedUntil(userId: string, until: number | null): Promise<void> {
    await this.db.updateTable('users').set({ verified_until: until }).where('id', '=', userId).execute();
  }

  async record(a: AttemptRecord): Promise<void> {
    await this.db
      .insertInto('verification_attempts')
      .values({
        id: randomUUID(),
        user_id: a.userId,
        at: a.at,
        ok: a.ok ? 1 : 0,
        reasons: a.reasons.join(','),
        ms: Math.round(a.ms),
        scores: JSON.stringify(a.scores),
      })
      .execute();
  }

  /** Failed attempts since `since`, oldest first (their times decide when the next one is allowed). */
  async failuresSince(userId: string, since: number): Promise<number[]> {
    const rows = await this.db
      .selectFrom('verification_attempts')
      .select('at')
      .where('user_id', '=', userId)
      .where('ok', '=', 0)
      .where('at', '>=', since)
      .orderBy('at', 'asc')
      .execute();
    return rows.map((r) => Number(r.at));
  }

  /** The age estimate from the person's last check and where they stand (age assurance). */
  async ageOf(userId: string): Promise<AgeRecord | undefined> {
    const row = await this.db
      .selectFrom('users')
      .select(['age_estimate', 'age_status', 'age_checked_at', 'age_review_note'])
      .where('id', '=', userId)
      .executeTakeFirst();
    if (!row || row.age_checked_at === null) return undefined;
    return {
      estimate: row.age_estimate === null ? null : Number(row.age_estimate),
      status: row.age_status,
      checkedAt: Number(row.age_checked_at),
      note: row.age_review_note,
    };
  }

  /**
   * Records a check's estimate. A refusal while a review is pending keeps the review pending, and a
   * moderator's confirmation stands whatever later estimates say.
   */
  async recordAge(userId: string, estimate: number | null, passed: boolean, at: number): Promise<void> {
    const current = (await this.ageOf(userId))?.status ?? null;
    const status = current === 'confirmed' ? 'confirmed' : passed ? 'passed' : current === 'review' ? 'review' : 'refused';
    await this.db
      .updateTable('users')
      .set({ age_estimate: estimate === null ? null : Math.floor(estimate), age_status: status, age_checked_at: at })
      .where('id', '=', userId)
      .execute();
  }

  /** A refused person asks a moderator to look again; false unless they stand refused. */
  async requestAgeReview(userId: string, note: string): Promise<boolean> {
    const r = await this.db
      .updateTable('users')
      .set({ age_status: 'review', age_review_note: note })
      .where('id', '=', userId)
      .where('age_status', '=', 'refused')
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** People waiting for a moderator to review an age refusal, oldest first. */
  async ageReviews(limit = 200) {
    const rows = await this.db
      .selectFrom('users')
      .select(['id', 'age_estimate', 'age_checked_at', 'age_review_note'])
      .where('age_status', '=', 'review')
      .orderBy('age_checked_at', 'asc')
      .limit(limit)
      .execute();
    return rows.map((r) => ({
      userId: r.id,
      estimate: r.age_estimate === null ? null : Number(r.age_estimate),
      checkedAt: Number(r.age_checked_at),
      note: r.age_review_note,
    }));
  }

  /** A moderator's decision on a review: confirmed lets the next check pass whatever the estimate. */
  async decideAge(userId: string, decision: 'confirm' | 'refuse'): Promise<boolean> {
    const r = await this.db
      .updateTable('users')
      .set({ age_status: decision === 'confirm' ? 'confirmed' : 'refused' })
      .where('id', '=', userId)
      .where('age_status', 'in', ['review', 'refused'])
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** The latest attempts of a person, newest first (moderators). */
  async recent(userId: string, limit = 10) {
    return this.db
      .selectFrom('verification_attempts')
      .select(['at', 'ok', 'reasons', 'ms', 'scores'])
      .where('user_id', '=', userId)
      .orderBy('at', 'desc')
      .limit(limit)
      .execute();
  }
}
