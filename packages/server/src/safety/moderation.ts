import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Calls } from '../calls/calls.js';
import type { LiveCall } from '../cluster/messages.js';
import type { StandingPort } from '../lobby/ports.js';
import type { Db } from '../storage/database.js';
import type { Clock } from '../util/clock.js';
import { SCREENING_REASON, viewersFlagging } from './screening.js';
import type { StaffPrincipal } from './staff.js';

const DAY = 86_400_000;

export interface ModerationOptions {
  db: Db;
  lobby: Pick<StandingPort, 'setHeld' | 'removeBanned'>;
  calls: Pick<Calls, 'endById' | 'kept'>;
  /** This node, and the console's reach to the others (several nodes); on a single node, none. */
  node: string;
  otherNodes?: OtherNodes;
  clock: Clock;
  log: Logger;
  /** Tells a connected person they are banned and closes their connection. */
  kick: (userId: string, ban: BanNotice) => void;
  /** Sends a moderator's warning to a connected person. */
  warn: (userId: string, message: string) => void;
  /** Strike policy: this many upheld reports within `strikeWindowDays` suspend for `suspensionDays`. */
  strikes: number;
  strikeWindowDays: number;
  suspensionDays: number;
  /** Frames and transcripts are deleted after this many days. */
  evidenceRetentionDays: number;
}

/** What the console asks of the other nodes of a cluster. */
export interface OtherNodes {
  /** The calls each other node keeps, and the nodes that did not answer in time. */
  liveCalls(): Promise<{ calls: LiveCall[]; silent: string[] }>;
  /** Ends the call wherever it runs; the node that ended it, or undefined when no node holds it. */
  endCall(callId: string): Promise<string | undefined>;
}

export interface BanNotice {
  reason: string;
  until: number | null;
  appeal: string;
}

export type Resolution = 'dismiss' | 'warn' | 'ban';

const APPEAL_HINT = 'You can appeal from the Duet page: explain what happened and a moderator will review it.';

/**
 * What moderators do: review reports with their evidence, warn, ban (by account and by device),
 * lift bans, decide appeals, end live calls; every action is written to the audit log.
 */
export class Moderation {
  readonly #o: ModerationOptions;
  constructor(options: ModerationOptions) {
    this.#o = options;
  }

  async audit(who: StaffPrincipal | null, action: string, target: string | null, detail: unknown): Promise<void> {
    await this.#o.db
      .insertInto('audit_log')
      .values({
        id: randomUUID(),
        staff_id: who?.staffId ?? null,
        action,
        target,
        detail: detail === undefined ? null : JSON.stringify({ by: who?.email ?? 'system', ...(detail as object) }),
        at: this.#o.clock.now(),
      })
      .execute();
  }

  /**
   * Ends a live call on whichever node it runs (this one first); both people are told `moderator`.
   * The node the request reached writes the one audit entry. False when no node holds the call.
   */
  async endCall(who: StaffPrincipal, callId: string): Promise<boolean> {
    const node = this.#o.calls.endById(callId, 'moderator', null) ? this.#o.node : await this.#o.otherNodes?.endCall(callId);
    if (node === undefined) return false;
    await this.audit(who, 'end_call', callId, { node });
    return true;
  }

  /**
   * Every live call of the cluster, once each (a call split across two nodes is listed by the node
   * that keeps it), with its node; `unreachable` names nodes that did not answer in time.
   */
  async liveCalls() {
    const elsewhere = (await this.#o.otherNodes?.liveCalls()) ?? { calls: [], silent: [] };
    const byId = new Map<string, LiveCall>();
    for (const c of [...this.#o.calls.kept(), ...elsewhere.calls]) if (!byId.has(c.id)) byId.set(c.id, c);
    const calls = [...byId.values()].sort((x, y) => x.matchedAt - y.matchedAt);
    const ids = [...new Set(calls.flatMap((c) => [c.a, c.b]))];
    const counts = ids.length
      ? await this.#o.db
          .selectFrom('reports')
          .select(['reported_id', (eb) => eb.fn.countAll<number | string>().as('n')])
          .where('reported_id', 'in', ids)
          .groupBy('reported_id')
          .execute()
      : [];
    const reportsAgainst = new Map(counts.map((c) => [c.reported_id, Number(c.n)]));
    const userRows = ids.length
      ? await this.#o.db.selectFrom('users').select(['id', 'device_id', 'verified_until', 'age_estimate']).where('id', 'in', ids).execute()
      : [];
    const ages = new Map(userRows.map((r) => [r.id, r.age_estimate === null ? null : Number(r.age_estimate)]));
    // Screening flags raise a call: how many this call drew, and the per-person signal across calls.
    const callIds = calls.map((c) => c.id);
    const flagRows = callIds.length
      ? await this.#o.db
          .selectFrom('reports')
          .select(['call_id', 'screen_scores', 'created_at'])
          .where('call_id', 'in', callIds)
          .where('reason', '=', SCREENING_REASON)
          .execute()
      : [];
    const flagsOn = new Map<string, { n: number; lastAt: number }>();
    for (const f of flagRows) {
      const e = flagsOn.get(f.call_id) ?? { n: 0, lastAt: 0 };
      flagsOn.set(f.call_id, { n: e.n + 1, lastAt: Math.max(e.lastAt, Number(f.created_at)) });
    }
    const flaggingViewers = await viewersFlagging(this.#o.db, ids);
    const devices = new Map(userRows.map((r) => [r.id, r.device_id]));
    const now = this.#o.clock.now();
    // The stored status (what the check granted, or a moderator revoked), as of now.
    const verified = new Set(userRows.filter((r) => r.verified_until !== null && Number(r.verified_until) > now).map((r) => r.id));
    const list = calls.map((c) => ({
      id: c.id,
      node: c.node,
      state: c.state,
      matchedAt: c.matchedAt,
      connectedAt: c.connectedAt,
      durationMs: now - (c.connectedAt ?? c.matchedAt),
      relayOnly: c.relayOnly,
      participants: (['a', 'b'] as const).map((side) => ({
        userId: c[side],
        node: c.nodes[side],
        deviceId: devices.get(c[side]) ?? null,
        reportsAgainst: reportsAgainst.get(c[side]) ?? 0,
        verified: verified.has(c[side]),
        ageEstimate: ages.get(c[side]) ?? null,
        flaggedBy: flaggingViewers.get(c[side]) ?? 0,
      })),
      screenFlags: flagsOn.get(c.id)?.n ?? 0,
      lastFlagAt: flagsOn.get(c.id)?.lastAt ?? null,
    }));
    // Flagged calls first, the latest flag on top; the rest keep their order.
    list.sort((x, y) => (y.lastFlagAt ?? 0) - (x.lastFlagAt ?? 0));
    return { calls: list, unreachable: elsewhere.silent };
  }

  async reports(status: 'open' | 'resolved' | 'all') {
    let q = this.#o.db
      .selectFrom('reports')
      .select(['id', 'call_id', 'reporter_id', 'reported_id', 'reason', 'comment', 'created_at', 'status', 'resolved_at', 'screen_scores']);
    if (status === 'open') q = q.where('status', '=', 'open');
    if (status === 'resolved') q = q.where('status', '!=', 'open');
    const rows = await q.orderBy('created_at', 'desc').limit(500).execute();
    const reporters = [...new Set(rows.map((r) => r.reporter_id))];
    const stats = await this.reporterStats(reporters);
    const ages = await this.#ages([...new Set(rows.flatMap((r) => [r.reporter_id, r.reported_id]))]);
    return rows.map((r) => ({
      ...reportSummary(r),
      reporter: stats.get(r.reporter_id) ?? { filed: 0, dismissed: 0, lastWeek: 0 },
      ages: { reporter: ages.get(r.reporter_id) ?? null, reported: ages.get(r.reported_id) ?? null },
    }));
  }

  /** The age assurance estimate and status of each person who has one (age assurance on). */
  async #ages(ids: readonly string[]): Promise<Map<string, { estimate: number | null; status: string | null }>> {
    if (ids.length === 0) return new Map();
    const rows = await this.#o.db
      .selectFrom('users')
      .select(['id', 'age_estimate', 'age_status'])
      .where('id', 'in', [...ids])
      .where('age_checked_at', 'is not', null)
      .execute();
    return new Map(rows.map((r) => [r.id, { estimate: r.age_estimate === null ? null : Number(r.age_estimate), status: r.age_status }]));
  }

  /** Reports each reporter filed, how many were dismissed, and how many in the last week: false or retaliatory reporting shows here. */
  async reporterStats(reporterIds: string[]): Promise<Map<string, { filed: number; dismissed: number; lastWeek: number }>> {
    const out = new Map<string, { filed: number; dismissed: number; lastWeek: number }>();
    if (reporterIds.length === 0) return out;
    const weekAgo = this.#o.clock.now() - 7 * DAY;
    const rows = await this.#o.db
      .selectFrom('reports')
      .select(['reporter_id', 'status', 'created_at'])
      .where('reporter_id', 'in', reporterIds)
      .execute();
    for (const r of rows) {
      const s = out.get(r.reporter_id) ?? { filed: 0, dismissed: 0, lastWeek: 0 };
      s.filed += 1;
      if (r.status === 'dismissed') s.dismissed += 1;
      if (r.created_at >= weekAgo) s.lastWeek += 1;
      out.set(r.reporter_id, s);
    }
    return out;
  }

  async report(id: string) {
    const r = await this.#o.db.selectFrom('reports').selectAll().where('id', '=', id).executeTakeFirst();
    if (!r) return undefined;
    const call = await this.#o.db
      .selectFrom('calls')
      .select(['id', 'matched_at', 'connected_at', 'ended_at', 'end_reason'])
      .where('id', '=', r.call_id)
      .executeTakeFirst();
    const against = await this.#o.db
      .selectFrom('reports')
      .select(['id', 'reason', 'status', 'created_at'])
      .where('reported_id', '=', r.reported_id)
      .orderBy('created_at', 'desc')
      .limit(20)
      .execute();
    const reportedDevice =
      (await this.#o.db.selectFrom('users').select('device_id').where('id', '=', r.reported_id).executeTakeFirst())?.device_id ?? null;
    const ages = await this.#ages([r.reporter_id, r.reported_id]);
    return {
      ...reportSummary(r),
      ages: { reporter: ages.get(r.reporter_id) ?? null, reported: ages.get(r.reported_id) ?? null },
      flaggedBy: r.reason === SCREENING_REASON ? ((await viewersFlagging(this.#o.db, [r.reported_id])).get(r.reported_id) ?? 0) : null,
      reportedDeviceId: reportedDevice,
      transcript: r.transcript ? (JSON.parse(r.transcript) as unknown[]) : null,
      frame: r.frame_jpeg ? `data:image/jpeg;base64,${r.frame_jpeg}` : null,
      call: call ?? null,
      historyOfReported: against,
      reporter: (await this.reporterStats([r.reporter_id])).get(r.reporter_id),
    };
  }

  /** Dismiss, warn or ban. Warnings and bans count as strikes; enough strikes suspend automatically. */
  async resolve(
    who: StaffPrincipal,
    id: string,
    action: Resolution,
    options: { banDays?: number | undefined; note?: string | undefined },
  ): Promise<'ok' | 'not_found' | 'already'> {
    const r = await this.#o.db
      .selectFrom('reports')
      .select(['id', 'reported_id', 'status', 'reason'])
      .where('id', '=', id)
      .executeTakeFirst();
    if (!r) return 'not_found';
    if (r.status !== 'open') return 'already';
    const now = this.#o.clock.now();
    const status = action === 'dismiss' ? 'dismissed' : action === 'warn' ? 'warned' : 'banned';
    // Only the first of two moderators resolving at once acts.
    const updated = await this.#o.db
      .updateTable('reports')
      .set({ status, resolved_by: who.staffId, resolved_at: now })
      .where('id', '=', id)
      .where('status', '=', 'open')
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) !== 1) return 'already';
    await this.audit(who, `report_${action}`, id, { reportedId: r.reported_id, note: options.note ?? null });
    const open = await this.#o.db
      .selectFrom('reports')
      .select('id')
      .where('reported_id', '=', r.reported_id)
      .where('status', '=', 'open')
      .executeTakeFirst();
    if (!open) this.#o.lobby.setHeld(r.reported_id, false);
    if (action === 'warn')
      this.#o.warn(
        r.reported_id,
        `A moderator reviewed a report against you (${r.reason}). Please keep to Duet's rules; repeated reports lead to a suspension.`,
      );
    if (action === 'ban') {
      await this.ban(who, { userId: r.reported_id, reason: `Report upheld: ${r.reason}`, days: options.banDays });
    } else if (action === 'warn') {
      await this.#applyStrikes(r.reported_id);
    }
    return 'ok';
  }

  async #applyStrikes(userId: string): Promise<void> {
    if (this.#o.strikes <= 0) return;
    const since = this.#o.clock.now() - this.#o.strikeWindowDays * DAY;
    const row = await this.#o.db
      .selectFrom('reports')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('reported_id', '=', userId)
      .where('status', 'in', ['warned', 'banned'])
      .where('resolved_at', '>=', since)
      .executeTakeFirstOrThrow();
    if (Number(row.n) >= this.#o.strikes && !(await this.activeBan(userId))) {
      await this.ban(null, { userId, reason: `${this.#o.strikes} upheld reports`, days: this.#o.suspensionDays });
    }
  }

  /** Bans an account and (when known) its device; a connected person is told and disconnected. */
  async ban(
    who: StaffPrincipal | null,
    b: { userId?: string | undefined; deviceId?: string | undefined; reason: string; days?: number | undefined },
  ): Promise<string> {
    const now = this.#o.clock.now();
    let deviceId = b.deviceId ?? null;
    if (b.userId && !deviceId) {
      deviceId =
        (await this.#o.db.selectFrom('users').select('device_id').where('id', '=', b.userId).executeTakeFirst())?.device_id ?? null;
    }
    const id = randomUUID();
    const until = b.days ? now + b.days * DAY : null;
    await this.#o.db
      .insertInto('bans')
      .values({
        id,
        user_id: b.userId ?? null,
        device_id: deviceId,
        reason: b.reason,
        until,
        created_by: who?.staffId ?? null,
        created_at: now,
        lifted_at: null,
      })
      .execute();
    await this.audit(who, 'ban', b.userId ?? deviceId, { reason: b.reason, until, deviceId });
    const affected = new Set<string>(b.userId ? [b.userId] : []);
    if (deviceId) {
      const sameDevice = await this.#o.db.selectFrom('users').select('id').where('device_id', '=', deviceId).execute();
      for (const u of sameDevice) affected.add(u.id);
    }
    for (const userId of affected) {
      this.#o.lobby.removeBanned(userId);
      this.#o.kick(userId, { reason: b.reason, until, appeal: APPEAL_HINT });
    }
    return id;
  }

  async lift(who: StaffPrincipal, banId: string): Promise<boolean> {
    const result = await this.#o.db
      .updateTable('bans')
      .set({ lifted_at: this.#o.clock.now() })
      .where('id', '=', banId)
      .where('lifted_at', 'is', null)
      .executeTakeFirst();
    const lifted = Number(result.numUpdatedRows) > 0;
    if (lifted) await this.audit(who, 'lift_ban', banId, {});
    return lifted;
  }

  /**
   * The ban that applies to this person now (by account or by device), if any. `deviceId`, when the
   * caller has just read the person's record, saves reading it again.
   */
  async activeBan(userId: string, deviceId?: string | null): Promise<{ id: string; reason: string; until: number | null } | undefined> {
    const now = this.#o.clock.now();
    const device =
      deviceId !== undefined
        ? deviceId
        : ((await this.#o.db.selectFrom('users').select('device_id').where('id', '=', userId).executeTakeFirst())?.device_id ?? null);
    const row = await this.#o.db
      .selectFrom('bans')
      .select(['id', 'reason', 'until'])
      .where('lifted_at', 'is', null)
      .where((eb) => eb.or([eb('until', 'is', null), eb('until', '>', now)]))
      .where((eb) => (device ? eb.or([eb('user_id', '=', userId), eb('device_id', '=', device)]) : eb('user_id', '=', userId)))
      .orderBy('created_at', 'desc')
      .executeTakeFirst();
    return row ?? undefined;
  }

  banNotice(ban: { reason: string; until: number | null }): BanNotice {
    return { reason: ban.reason, until: ban.until, appeal: APPEAL_HINT };
  }

  async bans() {
    const rows = await this.#o.db.selectFrom('bans').selectAll().orderBy('created_at', 'desc').limit(500).execute();
    const now = this.#o.clock.now();
    return rows.map((b) => ({
      id: b.id,
      userId: b.user_id,
      deviceId: b.device_id,
      reason: b.reason,
      until: b.until,
      createdAt: b.created_at,
      liftedAt: b.lifted_at,
      active: b.lifted_at === null && (b.until === null || b.until > now),
    }));
  }

  async appeal(userId: string, message: string): Promise<'ok' | 'not_banned' | 'already'> {
    const ban = await this.activeBan(userId);
    if (!ban) return 'not_banned';
    const existing = await this.#o.db
      .selectFrom('appeals')
      .select('id')
      .where('ban_id', '=', ban.id)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    if (existing) return 'already';
    await this.#o.db
      .insertInto('appeals')
      .values({ id: randomUUID(), user_id: userId, ban_id: ban.id, message, created_at: this.#o.clock.now() })
      .execute();
    return 'ok';
  }

  async appeals() {
    const rows = await this.#o.db
      .selectFrom('appeals')
      .innerJoin('bans', 'bans.id', 'appeals.ban_id')
      .select([
        'appeals.id',
        'appeals.user_id',
        'appeals.ban_id',
        'appeals.message',
        'appeals.status',
        'appeals.created_at',
        'bans.reason',
        'bans.until',
      ])
      .orderBy('appeals.created_at', 'desc')
      .limit(500)
      .execute();
    return rows.map((a) => ({
      id: a.id,
      userId: a.user_id,
      banId: a.ban_id,
      message: a.message,
      status: a.status,
      createdAt: a.created_at,
      banReason: a.reason,
      banUntil: a.until,
    }));
  }

  async decideAppeal(who: StaffPrincipal, id: string, decision: 'uphold' | 'lift'): Promise<boolean> {
    const a = await this.#o.db.selectFrom('appeals').select(['id', 'ban_id', 'status']).where('id', '=', id).executeTakeFirst();
    if (!a || a.status !== 'open') return false;
    const updated = await this.#o.db
      .updateTable('appeals')
      .set({ status: decision === 'lift' ? 'lifted' : 'upheld' })
      .where('id', '=', id)
      .where('status', '=', 'open')
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) !== 1) return false;
    if (decision === 'lift')
      await this.#o.db
        .updateTable('bans')
        .set({ lifted_at: this.#o.clock.now() })
        .where('id', '=', a.ban_id)
        .where('lifted_at', 'is', null)
        .execute();
    await this.audit(who, `appeal_${decision}`, id, { banId: a.ban_id });
    return true;
  }

  async auditLog(limit = 200) {
    const rows = await this.#o.db.selectFrom('audit_log').selectAll().orderBy('at', 'desc').limit(limit).execute();
    return rows.map((r) => ({
      id: r.id,
      staffId: r.staff_id,
      action: r.action,
      target: r.target,
      detail: r.detail ? (JSON.parse(r.detail) as unknown) : null,
      at: r.at,
    }));
  }

  /** The reporter's browser uploads the frame it captured; only the reporter, once, within minutes. */
  async attachFrame(userId: string, reportId: string, jpegBase64: string): Promise<'ok' | 'not_found' | 'too_late' | 'already'> {
    const r = await this.#o.db
      .selectFrom('reports')
      .select(['reporter_id', 'created_at', 'frame_jpeg'])
      .where('id', '=', reportId)
      .executeTakeFirst();
    if (!r || r.reporter_id !== userId) return 'not_found'; // never say whether someone else's report exists
    if (r.frame_jpeg !== null) return 'already';
    if (this.#o.clock.now() - r.created_at > 5 * 60_000) return 'too_late';
    await this.#o.db.updateTable('reports').set({ frame_jpeg: jpegBase64 }).where('id', '=', reportId).execute();
    return 'ok';
  }

  /** Evidence past retention is deleted (the report itself and its outcome stay). */
  async pruneEvidence(): Promise<number> {
    const before = this.#o.clock.now() - this.#o.evidenceRetentionDays * DAY;
    const res = await this.#o.db
      .updateTable('reports')
      .set({ frame_jpeg: null, transcript: null })
      .where('created_at', '<', before)
      .where((eb) => eb.or([eb('frame_jpeg', 'is not', null), eb('transcript', 'is not', null)]))
      .executeTakeFirst();
    const n = Number(res.numUpdatedRows);
    if (n > 0) this.#o.log.info({ reports: n }, 'evidence past retention deleted');
    return n;
  }
}

function reportSummary(r: {
  id: string;
  call_id: string;
  reporter_id: string;
  reported_id: string;
  reason: string;
  comment: string | null;
  created_at: number;
  status: string;
  resolved_at: number | null;
  screen_scores?: string | null;
}) {
  return {
    /** A screening flag's evidence: the classifier's scores for the flagged frame. */
    screenScores: r.screen_scores ? (JSON.parse(r.screen_scores) as Record<string, number>) : null,
    id: r.id,
    callId: r.call_id,
    reporterId: r.reporter_id,
    reportedId: r.reported_id,
    reason: r.reason,
    comment: r.comment,
    createdAt: r.created_at,
    status: r.status,
    resolvedAt: r.resolved_at,
  };
}
