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
