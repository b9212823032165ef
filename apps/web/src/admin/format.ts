import type { CallSummary, EndReason, FunnelStep, MediaPath } from '@duet/protocol';
import type { Bucket } from './api.js';
import { REPORT_REASON_LABELS } from '../reportReasons.js';

const DASH = '—';

export function ms(value: number | null | undefined): string {
  if (value === null || value === undefined) return DASH;
  if (value < 1000) return `${Math.round(value)} ms`;
  if (value < 60_000) return `${(value / 1000).toFixed(value < 10_000 ? 1 : 0)} s`;
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

export function pct(value: number | null | undefined, digits = 1): string {
  if (value === null || value === undefined) return DASH;
  // 75%, 97.5%, 0.4%: no trailing ".0".
  return `${Number((value * 100).toFixed(digits))}%`;
}

export function count(value: number): string {
  return value.toLocaleString('en');
}

/** "1 connection", "3 connections". */
export function counted(value: number, noun: string, plural = `${noun}s`): string {
  return `${count(value)} ${value === 1 ? noun : plural}`;
}

export function bytes(value: number | null | undefined): string {
  if (value === null || value === undefined) return DASH;
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = value;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v.toFixed(i === 0 || v >= 100 ? 0 : 1)} ${units[i]}`;
}

export function kbps(value: number | null | undefined): string {
  if (value === null || value === undefined) return DASH;
  return value >= 1000 ? `${(value / 1000).toFixed(1)} Mbps` : `${Math.round(value)} kbps`;
}

const hourFmt = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit' });
const shortDayFmt = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short' });
const dayFmt = new Intl.DateTimeFormat('en-GB', { weekday: 'short', day: 'numeric', month: 'short' });
const dateTimeFmt = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
const fullFmt = new Intl.DateTimeFormat('en-GB', {
  day: 'numeric',
  month: 'short',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

/** The label of a time-series bucket starting at `t`. */
export function bucketLabel(t: number, bucket: Bucket): string {
  if (bucket === 'day') return dayFmt.format(t);
  // Midnight names the day, so a 24-hour axis says where yesterday ends.
  return new Date(t).getHours() === 0 ? shortDayFmt.format(t) : hourFmt.format(t);
}

export function dateTime(t: number | null | undefined): string {
  return t === null || t === undefined ? DASH : dateTimeFmt.format(t);
}

export function fullDateTime(t: number | null | undefined): string {
  return t === null || t === undefined ? DASH : fullFmt.format(t);
}

/** A funnel day (YYYY-MM-DD) as "Mon 3 Mar". */
export function dayLabel(day: string): string {
  const t = Date.parse(`${day}T00:00:00Z`);
  return Number.isNaN(t)
    ? day
    : new Intl.DateTimeFormat('en-GB', { weekday: 'short', day: 'numeric', month: 'short', timeZone: 'UTC' }).format(t);
}

const REASONS: Record<EndReason, string> = {
  next: 'Next',
  leave: 'Left',
  blocked: 'Blocked',
  reported: 'Reported',
  ice_failed: 'Could not connect',
  connection_lost: 'Connection lost',
  heartbeat_timeout: 'Heartbeat timeout',
  moderator: 'Moderator',
  banned: 'Banned',
  insufficient_credits: 'Out of credits',
  server_shutdown: 'Server shutdown',
};

export function reasonLabel(reason: EndReason | null): string {
  return reason ? REASONS[reason] : DASH;
}

export const FUNNEL_LABELS: Record<FunnelStep, string> = {
  page_opened: 'Opened',
  camera_allowed: 'Camera on',
  queued: 'Queued',
  matched: 'Matched',
  connected: 'Connected',
  talked_30s: 'Talked 30 s',
};

const CANDIDATE_LABELS: Record<MediaPath['local'], string> = { host: 'host', srflx: 'srflx', prflx: 'prflx', relay: 'relay' };

/** "srflx → srflx, udp" or "relay (tls) → srflx, udp"; what getStats says, for an operator. */
export function pathDetail(p: MediaPath | null): string {
  if (!p) return DASH;
  const local = p.local === 'relay' && p.relayProtocol ? `relay (${p.relayProtocol})` : CANDIDATE_LABELS[p.local];
  return `${local} → ${CANDIDATE_LABELS[p.remote]}, ${p.protocol}`;
}

export function pathKind(call: Pick<CallSummary, 'relayed' | 'path'>): 'Relayed' | 'Direct' | 'Unknown' {
  if (call.relayed) return 'Relayed';
  return call.path.a || call.path.b ? 'Direct' : 'Unknown';
}

export function endedByLabel(by: CallSummary['endedBy']): string {
  switch (by) {
    case 'a':
      return 'Person A (offerer)';
    case 'b':
      return 'Person B';
    case 'server':
      return 'Server';
    default:
      return DASH;
  }
}

export function outcomeLabel(outcome: CallSummary['outcome']): string {
  switch (outcome) {
    case 'connected':
      return 'Connected';
    case 'ice_failed':
      return 'Could not connect';
    case 'abandoned':
      return 'Abandoned before connecting';
    case 'live':
      return 'Live now';
  }
}

/** "just now", "4 min ago", "3 h ago", "2 days ago"; past times only. */
export function ago(t: number, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 45) return 'just now';
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.round(m / 60);
  if (h < 36) return `${h} h ago`;
  const d = Math.round(h / 24);
  return `${d} day${d === 1 ? '' : 's'} ago`;
}

/** A user, call or report id as the server makes them. */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A ban's end: "permanent", or the date. */
export function until(t: number | null): string {
  return t === null ? 'Permanent' : fullDateTime(t);
}

export function reportReasonLabel(reason: string): string {
  return (REPORT_REASON_LABELS as Record<string, string>)[reason] ?? reason;
}

/**
 * A reporter whose reports look like mass or retaliatory false reporting: many in the last
 * week, or most of them dismissed (once there are at least two to judge by).
 */
export function suspiciousReporter(s: { filed: number; dismissed: number; lastWeek: number } | undefined): string | null {
  if (!s) return null;
  const why: string[] = [];
  if (s.lastWeek >= 5) why.push(`${s.lastWeek} reports in the last week`);
  if (s.filed >= 2 && s.dismissed / s.filed >= 0.5) why.push(`${Math.round((s.dismissed / s.filed) * 100)}% of their reports dismissed`);
  return why.length ? why.join(' · ') : null;
}
