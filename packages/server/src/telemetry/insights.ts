import {
  BROKEN_AUDIO_CONCEALMENT,
  DELAY_BUDGET_MS,
  DURATION_BINS_S,
  END_REASONS,
  FUNNEL_STEPS,
  mediaPathSchema,
  type CallDetail,
  type CallOutcome,
  type CallSummary,
  type EndReason,
  type FunnelStep,
  type InsightsQuery,
  type InsightsResponse,
  type MediaPath,
} from '@duet/protocol';
import type { Selectable } from 'kysely';
import type { Db } from '../storage/database.js';
import type { CallsTable } from '../storage/schema.js';
import { dayOf } from './funnel.js';
import { outcomeOf } from './metrics.js';

type CallRow = Selectable<CallsTable>;

const BUCKET_MS = { hour: 3_600_000, day: 86_400_000 } as const;
/** A range wider than this many buckets is refused rather than computed. */
export const MAX_BUCKETS = 24 * 93;
/** At most this many calls are read for one insights answer or export. */
export const MAX_CALLS = 200_000;

/** Nearest-rank percentile of unsorted values; null when there are none. */
export function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!;
}

/** A call's quality figures, aggregated over both sides' samples. */
type QualityAgg = CallSummary['quality'];

/**
 * How bad a call felt, higher is worse: each 100 ms of estimated delay or of round-trip time,
 * each 5 % of packet loss at its worst, each second of frozen video, and each 1 % of concealed
 * voice in its worst 10 s add one point.
 */
export function qualityScore(q: QualityAgg): number {
  const score =
    (q.estDelayMsP50 ?? 0) / 100 +
    (q.rttMsP50 ?? 0) / 100 +
    (q.packetLossMax ?? 0) * 20 +
    (q.freezeMs ?? 0) / 1000 +
    (q.audioConcealmentMax ?? 0) * 100;
  return Math.round(score * 100) / 100;
}

export class Insights {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }

  async overview(q: InsightsQuery): Promise<InsightsResponse> {
    const width = BUCKET_MS[q.bucket];
    const start = Math.floor(q.from / width) * width;
    const rows = await this.#callsIn(q.from, q.to);
    const ended = rows.filter((r) => r.ended_at !== null);
    const outcomes = ended.map(rowOutcome);
    const count = (o: string) => outcomes.filter((x) => x === o).length;
    const connected = count('connected');
    const iceFailed = count('ice_failed');

    const series: InsightsResponse['series'] = [];
    for (let t = start; t < q.to; t += width) {
      const inBucket = ended.filter((r) => r.matched_at >= t && r.matched_at < t + width).map(rowOutcome);
      const c = inBucket.filter((o) => o === 'connected').length;
      const f = inBucket.filter((o) => o === 'ice_failed').length;
      series.push({ t, calls: inBucket.length, connected: c, iceFailed: f, successRate: c + f > 0 ? c / (c + f) : null });
    }

    const connectedRows = ended.filter((r) => r.connected_at !== null);
    const withPath = connectedRows.filter((r) => r.a_path !== null || r.b_path !== null || rowRelayed(r));
    const relayed = withPath.filter((r) => rowRelayed(r)).length;

    const waits = rows.flatMap((r) => [r.a_wait_ms, r.b_wait_ms]).filter((v): v is number => v !== null);
    const connects = rows.filter((r) => r.connected_at !== null).map((r) => r.connected_at! - r.matched_at);

    const durations = [...DURATION_BINS_S, null].map((le) => ({ le, count: 0 }));
    for (const r of connectedRows) {
      const s = (r.ended_at! - r.connected_at! - Number(r.reconnecting_ms)) / 1000;
      const bin = DURATION_BINS_S.findIndex((le) => s <= le);
      durations[bin === -1 ? durations.length - 1 : bin]!.count += 1;
    }

    const reasons = new Map<EndReason, number>();
    for (const r of ended) reasons.set(r.end_reason as EndReason, (reasons.get(r.end_reason as EndReason) ?? 0) + 1);
    const endReasons = END_REASONS.filter((r) => reasons.has(r))
      .map((reason) => ({ reason, count: reasons.get(reason)! }))
      .sort((x, y) => y.count - x.count);

    const quality = await this.#quality(connectedRows.map((r) => r.id));
    const worstCalls = connectedRows
      .filter((r) => quality.has(r.id))
      .map((r) => {
        const summary = toSummary(r, quality.get(r.id));
        return { ...summary, score: qualityScore(summary.quality) };
      })
      .sort((x, y) => y.score - x.score)
      .slice(0, 10);

    return {
      range: { from: q.from, to: q.to, bucket: q.bucket },
      totals: {
        calls: ended.length,
        connected,
        iceFailed,
        abandoned: count('abandoned'),
        successRate: connected + iceFailed > 0 ? connected / (connected + iceFailed) : null,
        relayShare: withPath.length > 0 ? relayed / withPath.length : null,
      },
      series,
      timeToMatchMs: { p50: percentile(waits, 0.5), p95: percentile(waits, 0.95), count: waits.length },
      timeToConnectMs: { p50: percentile(connects, 0.5), p95: percentile(connects, 0.95), count: connects.length },
      durations,
      endReasons,
      funnel: await this.#funnel(q.from, q.to),
      worstCalls,
      callQuality: callQualityTotals(quality),
    };
  }

  async call(id: string): Promise<CallDetail | undefined> {
    const row = await this.#db.selectFrom('calls').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) return undefined;
    const samples = await this.#db.selectFrom('call_quality').selectAll().where('call_id', '=', id).orderBy('at').orderBy('side').execute();
    const quality = await this.#quality([id]);
    return {
      ...toSummary(row, quality.get(id)),
      samples: samples.map((s) => ({
        side: s.side,
        at: s.at,
        final: s.final === 1,
        ...defined({
          rttMs: s.rtt_ms,
          jitterMs: s.jitter_ms,
          packetLoss: s.packet_loss,
          inboundKbps: s.inbound_kbps,
          outboundKbps: s.outbound_kbps,
          fps: s.fps,
          freezeCount: s.freeze_count,
          totalFreezesMs: s.total_freezes_ms,
          audioConcealment: s.audio_concealment,
          estDelayMs: s.est_delay_ms,
          bytesTotal: s.bytes_total,
        }),
      })),
    };
  }

  async export(from: number, to: number): Promise<CallSummary[]> {
    const rows = await this.#callsIn(from, to);
    const quality = await this.#quality(rows.filter((r) => r.connected_at !== null).map((r) => r.id));
    return rows.map((r) => toSummary(r, quality.get(r.id)));
  }

  #callsIn(from: number, to: number): Promise<CallRow[]> {
    return this.#db
      .selectFrom('calls')
      .selectAll()
      .where('matched_at', '>=', from)
      .where('matched_at', '<', to)
      .orderBy('matched_at')
      .limit(MAX_CALLS)
      .execute();
  }

  async #quality(callIds: string[]): Promise<Map<string, QualityAgg>> {
    const out = new Map<string, QualityAgg>();
    // Chunked so an IN list never exceeds what SQLite and PostgreSQL accept.
    for (let i = 0; i < callIds.length; i += 500) {
      const chunk = callIds.slice(i, i + 500);
      const samples = await this.#db
        .selectFrom('call_quality')
        .select(['call_id', 'side', 'rtt_ms', 'packet_loss', 'total_freezes_ms', 'est_delay_ms', 'audio_concealment', 'final'])
        .where('call_id', 'in', chunk)
        .execute();
      // (Map.groupBy would do, but Node 20 does not have it.)
      const byCall = new Map<string, typeof samples>();
      for (const s of samples) {
        const list = byCall.get(s.call_id);
        if (list) list.push(s);
        else byCall.set(s.call_id, [s]);
      }
      for (const [id, list] of byCall) {
        const nums = (k: 'rtt_ms' | 'packet_loss' | 'est_delay_ms') => list.map((s) => s[k]).filter((v): v is number => v !== null);
        // Interval samples (10 s each); a final sample covers only the call's last seconds.
        const concealment = list
          .filter((s) => s.final !== 1)
          .map((s) => s.audio_concealment)
          .filter((v): v is number => v !== null);
        const delays = nums('est_delay_ms');
        const loss = nums('packet_loss');
        // Freeze time is cumulative per side: the call's total is each side's largest value, added.
        const freezeBySide = new Map<string, number>();
        for (const s of list)
          if (s.total_freezes_ms !== null) freezeBySide.set(s.side, Math.max(freezeBySide.get(s.side) ?? 0, s.total_freezes_ms));
        out.set(id, {
          rttMsP50: percentile(nums('rtt_ms'), 0.5),
          packetLossMax: loss.length > 0 ? Math.max(...loss) : null,
          freezeMs: freezeBySide.size > 0 ? [...freezeBySide.values()].reduce((x, y) => x + y, 0) : null,
          estDelayMsP50: percentile(delays, 0.5),
          estDelayMsMax: delays.length > 0 ? Math.max(...delays) : null,
          audioConcealmentMax: concealment.length > 0 ? Math.max(...concealment) : null,
        });
      }
    }
    return out;
  }

  async #funnel(from: number, to: number): Promise<InsightsResponse['funnel']> {
    const rows = await this.#db
      .selectFrom('funnel')
      .select(['day', 'step', (eb) => eb.fn.countAll<number | string>().as('n')])
      .where('day', '>=', dayOf(from))
      .where('day', '<=', dayOf(Math.max(from, to - 1)))
      .groupBy(['day', 'step'])
      .orderBy('day')
      .execute();
    const days = new Map<string, Record<FunnelStep, number>>();
    for (const r of rows) {
      const steps = days.get(r.day) ?? (Object.fromEntries(FUNNEL_STEPS.map((s) => [s, 0])) as Record<FunnelStep, number>);
      if ((FUNNEL_STEPS as readonly string[]).includes(r.step)) steps[r.step as FunnelStep] = Number(r.n);
      days.set(r.day, steps);
    }
    return [...days].map(([day, steps]) => ({ day, steps }));
  }
}

/** Over the delay budget and with broken audio, among connected calls that sent quality samples. */
export function callQualityTotals(quality: Map<string, QualityAgg>): InsightsResponse['callQuality'] {
  let overBudget = 0;
  let brokenAudio = 0;
  for (const q of quality.values()) {
    if (q.estDelayMsP50 !== null && q.estDelayMsP50 > DELAY_BUDGET_MS) overBudget++;
    if (q.audioConcealmentMax !== null && q.audioConcealmentMax > BROKEN_AUDIO_CONCEALMENT) brokenAudio++;
  }
  return { measured: quality.size, overBudget, brokenAudio };
}

/** A stored call's outcome, by the same rule as the live metrics. */
function rowOutcome(r: CallRow): CallOutcome {
  return outcomeOf({ at: { connected: r.connected_at ?? undefined }, endReason: r.end_reason ?? undefined });
}

function parsePath(json: string | null): MediaPath | null {
  if (!json) return null;
  const parsed = mediaPathSchema.safeParse(JSON.parse(json));
  return parsed.success ? parsed.data : null;
}

/** By the relay's books (RelayAccounting), not by the paths browsers report. */
function rowRelayed(r: CallRow): boolean {
  return Number(r.relayed) === 1;
}

function toSummary(r: CallRow, q: QualityAgg | undefined): CallSummary {
  return {
    id: r.id,
    matchedAt: r.matched_at,
    connectedAt: r.connected_at,
    endedAt: r.ended_at,
    outcome: r.ended_at === null ? 'live' : rowOutcome(r),
    endReason: r.end_reason as EndReason | null,
    endedBy: r.ended_at === null ? null : r.ended_by === null ? 'server' : r.ended_by === r.user_a ? 'a' : 'b',
    durationMs: r.connected_at !== null && r.ended_at !== null ? r.ended_at - r.connected_at - Number(r.reconnecting_ms) : null,
    waitMs: { a: r.a_wait_ms, b: r.b_wait_ms },
    timeToConnectMs: r.connected_at !== null ? r.connected_at - r.matched_at : null,
    path: { a: parsePath(r.a_path), b: parsePath(r.b_path) },
    gathered: { a: r.a_gathered ? r.a_gathered.split(',') : null, b: r.b_gathered ? r.b_gathered.split(',') : null },
    relayed: rowRelayed(r),
    bytesRelayed: r.bytes_relayed,
    quality: q ?? {
      rttMsP50: null,
      packetLossMax: null,
      freezeMs: null,
      estDelayMsP50: null,
      estDelayMsMax: null,
      audioConcealmentMax: null,
    },
  };
}

function defined<T extends Record<string, number | null>>(o: T): { [K in keyof T]?: number } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null)) as { [K in keyof T]?: number };
}

/** One CSV line per call, flat columns, RFC 4180 quoting. */
export function toCsv(calls: CallSummary[]): string {
  const header = [
    'id',
    'matched_at',
    'connected_at',
    'ended_at',
    'outcome',
    'end_reason',
    'ended_by',
    'duration_ms',
    'wait_ms_a',
    'wait_ms_b',
    'time_to_connect_ms',
    'path_a',
    'path_b',
    'gathered_a',
    'gathered_b',
    'relayed',
    'bytes_relayed',
    'rtt_ms_p50',
    'packet_loss_max',
    'freeze_ms',
    'est_delay_ms_p50',
    'est_delay_ms_max',
    'audio_concealment_max',
  ];
  const pathText = (p: MediaPath | null) => (p ? `${p.local}-${p.remote}/${p.relayProtocol ?? p.protocol}` : '');
  const cell = (v: unknown) => {
    const s = v === null || v === undefined ? '' : String(v);
    return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const lines = calls.map((c) =>
    [
      c.id,
      iso(c.matchedAt),
      iso(c.connectedAt),
      iso(c.endedAt),
      c.outcome,
      c.endReason,
      c.endedBy,
      c.durationMs,
      c.waitMs.a,
      c.waitMs.b,
      c.timeToConnectMs,
      pathText(c.path.a),
      pathText(c.path.b),
      c.gathered.a?.join(' '),
      c.gathered.b?.join(' '),
      c.relayed,
      c.bytesRelayed,
      c.quality.rttMsP50,
      c.quality.packetLossMax,
      c.quality.freezeMs,
      c.quality.estDelayMsP50,
      c.quality.estDelayMsMax,
      c.quality.audioConcealmentMax,
    ]
      .map(cell)
      .join(','),
  );
  return [header.join(','), ...lines].join('\r\n') + '\r\n';
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
