import { randomUUID } from 'node:crypto';
import { LIVENESS_ACTIONS, type LivenessAction } from '@duet/protocol';
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
    await this.db.insertInto('verification_challenges').values({ nonce: c.nonce, user_id: c.subject, actions: c.actions.join(','), issued_at: c.issuedAt, deadline: c.deadline, used_at: null }).execute();
  }

  async take(nonce: string): Promise<TakeResult> {
    const updated = await this.db.updateTable('verification_challenges').set({ used_at: this.clock.now() }).where('nonce', '=', nonce).where('used_at', 'is', null).executeTakeFirst();
    const row = await this.db.selectFrom('verification_challenges').selectAll().where('nonce', '=', nonce).executeTakeFirst();
    if (!row) return { kind: 'unknown' };
    if (Number(updated.numUpdatedRows) !== 1) return { kind: 'used' };
    const actions = row.actions.split(',').filter((a): a is LivenessAction => (LIVENESS_ACTIONS as readonly string[]).includes(a));
    return { kind: 'fresh', challenge: { nonce: row.nonce, subject: row.user_id, actions, issuedAt: Number(row.issued_at), deadline: Number(row.deadline) } };
  }

  /** Challenges nobody can answer any more are kept a day (for the attempt log), then removed. */
  async prune(now: number): Promise<void> {
    await this.db.deleteFrom('verification_challenges').where('issued_at', '<', now - 24 * 3600_000).execute();
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

/** Who is verified until when, and the log of attempts (rate limit, moderators' view). */
export class VerificationRepository {
  constructor(readonly db: Db) {}

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
      .values({ id: randomUUID(), user_id: a.userId, at: a.at, ok: a.ok ? 1 : 0, reasons: a.reasons.join(','), ms: Math.round(a.ms), scores: JSON.stringify(a.scores) })
      .execute();
  }

  /** Failed attempts since `since`, oldest first (their times decide when the next one is allowed). */
  async failuresSince(userId: string, since: number): Promise<number[]> {
    const rows = await this.db.selectFrom('verification_attempts').select('at').where('user_id', '=', userId).where('ok', '=', 0).where('at', '>=', since).orderBy('at', 'asc').execute();
    return rows.map((r) => Number(r.at));
  }

  /** The latest attempts of a person, newest first (moderators). */
  async recent(userId: string, limit = 10) {
    return this.db.selectFrom('verification_attempts').select(['at', 'ok', 'reasons', 'ms', 'scores']).where('user_id', '=', userId).orderBy('at', 'desc').limit(limit).execute();
  }
}
