import type { CallSummary, EndReason, FunnelStep, MediaPath, ReportReason } from '@duet/protocol';
import { directionOf, isLocale, type ConsoleMessageId, type Text } from '../i18n/index.js';
import type { Bucket } from './api.js';

/** The console's messages (from `useConsoleText()`), handed to helpers that are not components. */
export type T = Text<ConsoleMessageId>;

const DASH = '—';

/**
 * Date formats in the staff member's language. English keeps the console's day-month order and
 * 24-hour clock (en-GB), as it always read; formats are cached per language and options.
 */
const dateFormats = new Map<string, Intl.DateTimeFormat>();
function dateFormat(t: T, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const locale = t.intl.locale === 'en' ? 'en-GB' : t.intl.locale;
  const key = `${locale} ${JSON.stringify(options)}`;
  let f = dateFormats.get(key);
  if (!f) dateFormats.set(key, (f = new Intl.DateTimeFormat(locale, options)));
  return f;
}

/** Whether the staff member's language reads right to left: charts then run from the right, axes on that side. */
export function isRtl(t: T): boolean {
  return isLocale(t.intl.locale) && directionOf(t.intl.locale) === 'rtl';
}

/** A number in the staff member's language, with these digits after the point. */
export function num(t: T, value: number, digits: { min?: number; max?: number } = {}): string {
  return t.intl.formatNumber(value, { minimumFractionDigits: digits.min ?? 0, maximumFractionDigits: digits.max ?? digits.min ?? 0 });
}

export function ms(t: T, value: number | null | undefined): string {
  if (value === null || value === undefined) return DASH;
  if (value < 1000) return t('console.unit.ms', { n: num(t, Math.round(value)) });
  if (value < 60_000) return t('console.unit.s', { n: num(t, value / 1000, { min: value < 10_000 ? 1 : 0 }) });
  return duration(value);
}

/** 0:42, 12:05, 1:02:10 */
export function duration(value: number | null | undefined): string {
  if (value === null || value === undefined) return DASH;
  const s = Math.round(value / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

export function pct(t: T, value: number | null | undefined, digits = 1): string {
  if (value === null || value === undefined) return DASH;
  // 75%, 97.5%, 0.4%: no trailing ".0".
  return t.intl.formatNumber(value, { style: 'percent', maximumFractionDigits: digits });
}

export function count(t: T, value: number): string {
  return t.intl.formatNumber(value);
}

export function bytes(t: T, value: number | null | undefined): string {
  if (value === null || value === undefined) return DASH;
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = value;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${num(t, v, { min: i === 0 || v >= 100 ? 0 : 1 })} ${units[i]}`;
}

export function kbps(t: T, value: number | null | undefined): string {
  if (value === null || value === undefined) return DASH;
  return value >= 1000 ? `${num(t, value / 1000, { min: 1 })} Mbps` : `${num(t, Math.round(value))} kbps`;
}

const HOUR: Intl.DateTimeFormatOptions = { hour: '2-digit', minute: '2-digit' };
const SHORT_DAY: Intl.DateTimeFormatOptions = { day: 'numeric', month: 'short' };
const DAY: Intl.DateTimeFormatOptions = { weekday: 'short', day: 'numeric', month: 'short' };
const DATE_TIME: Intl.DateTimeFormatOptions = { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' };
const FULL: Intl.DateTimeFormatOptions = {
  day: 'numeric',
  month: 'short',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
};
const TIME: Intl.DateTimeFormatOptions = { hour: '2-digit', minute: '2-digit', second: '2-digit' };

/** The label of a time-series bucket starting at `at`. */
export function bucketLabel(t: T, at: number, bucket: Bucket): string {
  if (bucket === 'day') return dateFormat(t, DAY).format(at);
  // Midnight names the day, so a 24-hour axis says where yesterday ends.
  return new Date(at).getHours() === 0 ? dateFormat(t, SHORT_DAY).format(at) : dateFormat(t, HOUR).format(at);
}

export function dateTime(t: T, at: number | null | undefined): string {
  return at === null || at === undefined ? DASH : dateFormat(t, DATE_TIME).format(at);
}

export function fullDateTime(t: T, at: number | null | undefined): string {
  return at === null || at === undefined ? DASH : dateFormat(t, FULL).format(at);
}

/** A time of day with seconds: "14:05:09". */
export function timeOfDay(t: T, at: number): string {
  return dateFormat(t, TIME).format(at);
}

/** A funnel day (YYYY-MM-DD) as "Mon 3 Mar". */
export function dayLabel(t: T, day: string): string {
  const at = Date.parse(`${day}T00:00:00Z`);
  return Number.isNaN(at) ? day : dateFormat(t, { ...DAY, timeZone: 'UTC' }).format(at);
}

const REASONS: Record<EndReason, ConsoleMessageId> = {
  next: 'console.endReason.next',
  leave: 'console.endReason.leave',
  blocked: 'console.endReason.blocked',
  reported: 'console.endReason.reported',
  ice_failed: 'console.endReason.ice_failed',
  connection_lost: 'console.endReason.connection_lost',
  heartbeat_timeout: 'console.endReason.heartbeat_timeout',
  moderator: 'console.endReason.moderator',
  banned: 'console.endReason.banned',
  insufficient_credits: 'console.endReason.insufficient_credits',
  server_shutdown: 'console.endReason.server_shutdown',
};

export function reasonLabel(t: T, reason: EndReason | null): string {
  const id = reason ? REASONS[reason] : undefined;
  return id ? t(id) : (reason ?? DASH);
}

export const FUNNEL_LABELS: Record<FunnelStep, ConsoleMessageId> = {
  page_opened: 'console.funnel.page_opened',
  camera_allowed: 'console.funnel.camera_allowed',
  queued: 'console.funnel.queued',
  matched: 'console.funnel.matched',
  connected: 'console.funnel.connected',
  talked_30s: 'console.funnel.talked_30s',
};

const CANDIDATE_LABELS: Record<MediaPath['local'], string> = { host: 'host', srflx: 'srflx', prflx: 'prflx', relay: 'relay' };

/** "srflx → srflx, udp" or "relay (tls) → srflx, udp"; what getStats says, for an operator (ICE's own words). */
export function pathDetail(p: MediaPath | null): string {
  if (!p) return DASH;
  const local = p.local === 'relay' && p.relayProtocol ? `relay (${p.relayProtocol})` : CANDIDATE_LABELS[p.local];
  return `${local} → ${CANDIDATE_LABELS[p.remote]}, ${p.protocol}`;
}

export type PathKind = 'relayed' | 'direct' | 'unknown';

export function pathKind(call: Pick<CallSummary, 'relayed' | 'path'>): PathKind {
  if (call.relayed) return 'relayed';
  return call.path.a || call.path.b ? 'direct' : 'unknown';
}

/** The tag for a path kind: its words and its colour class. */
export function pathTag(t: T, kind: PathKind): { text: string; className: string } {
  if (kind === 'relayed') return { text: t('console.path.relayed'), className: 'relay' };
  if (kind === 'direct') return { text: t('console.path.direct'), className: 'direct' };
  return { text: t('console.path.unknown'), className: '' };
}

export function endedByLabel(t: T, by: CallSummary['endedBy']): string {
  switch (by) {
    case 'a':
      return t('console.endedBy.a');
    case 'b':
      return t('console.endedBy.b');
    case 'server':
      return t('console.endedBy.server');
    default:
      return DASH;
  }
}

export function outcomeLabel(t: T, outcome: CallSummary['outcome']): string {
  switch (outcome) {
    case 'connected':
      return t('console.outcome.connected');
    case 'ice_failed':
      return t('console.outcome.ice_failed');
    case 'abandoned':
      return t('console.outcome.abandoned');
    case 'live':
      return t('console.outcome.live');
  }
}

/** "just now", "4 min ago", "3 h ago", "2 days ago"; past times only. */
export function ago(t: T, at: number, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - at) / 1000));
  if (s < 45) return t('console.ago.now');
  const m = Math.round(s / 60);
  if (m < 60) return t('console.ago.minutes', { n: m });
  const h = Math.round(m / 60);
  if (h < 36) return t('console.ago.hours', { n: h });
  return t('console.ago.days', { n: Math.round(h / 24) });
}

/** A user, call or report id as the server makes them. */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A ban's end: "Permanent", or the date. */
export function until(t: T, at: number | null): string {
  return at === null ? t('console.until.permanent') : fullDateTime(t, at);
}

const REPORT_REASONS: Record<ReportReason, ConsoleMessageId> = {
  nudity: 'console.reportReason.nudity',
  harassment: 'console.reportReason.harassment',
  underage: 'console.reportReason.underage',
  spam: 'console.reportReason.spam',
  violence: 'console.reportReason.violence',
  other: 'console.reportReason.other',
};

export function reportReasonLabel(t: T, reason: string): string {
  const id = (REPORT_REASONS as Record<string, ConsoleMessageId | undefined>)[reason];
  return id ? t(id) : reason;
}

/**
 * A reporter whose reports look like mass or retaliatory false reporting: many in the last
 * week, or most of them dismissed (once there are at least two to judge by).
 */
export function suspiciousReporter(t: T, s: { filed: number; dismissed: number; lastWeek: number } | undefined): string | null {
  if (!s) return null;
  const why: string[] = [];
  if (s.lastWeek >= 5) why.push(t('console.reporter.manyLastWeek', { n: s.lastWeek }));
  if (s.filed >= 2 && s.dismissed / s.filed >= 0.5)
    why.push(t('console.reporter.mostDismissed', { share: pct(t, s.dismissed / s.filed, 0) }));
  return why.length ? why.join(' · ') : null;
}
