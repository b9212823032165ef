import type { ReportReason } from '@duet/protocol';

/**
 * Shapes of the moderation API (packages/server/src/safety/routes.ts and moderation.ts). The server
 * does not export them through @duet/protocol, so they are written down here once.
 */
export type StaffRole = 'moderator' | 'admin';

export interface StaffMe {
  email: string;
  role: StaffRole;
  /** null for the operator's API token, which needs no CSRF token. */
  csrf: string | null;
}

export interface LiveCall {
  id: string;
  /** The node that keeps the call (it matched them); each participant's own node is on them. */
  node: string;
  state: 'matched' | 'connecting' | 'connected' | 'reconnecting' | 'ended';
  matchedAt: number;
  connectedAt: number | null;
  durationMs: number;
  relayOnly: boolean;
  participants: Array<{ userId: string; node: string; reportsAgainst: number; verified: boolean }>;
}

export interface ReporterStats {
  filed: number;
  dismissed: number;
  lastWeek: number;
}

export type ReportStatus = 'open' | 'dismissed' | 'warned' | 'banned';

export interface ReportSummary {
  id: string;
  callId: string;
  reporterId: string;
  reportedId: string;
  reason: ReportReason;
  comment: string | null;
  createdAt: number;
  status: ReportStatus;
  resolvedAt: number | null;
  reporter: ReporterStats;
}

export interface TranscriptLine {
  from: 'reporter' | 'reported';
  text: string;
  at: number;
}

export interface ReportDetail extends Omit<ReportSummary, 'reporter'> {
  transcript: TranscriptLine[] | null;
  /** A JPEG data URL of the reported person's video when the report was made, if the reporter's browser sent one. */
  frame: string | null;
  call: { id: string; matched_at: number; connected_at: number | null; ended_at: number | null; end_reason: string | null } | null;
  historyOfReported: Array<{ id: string; reason: ReportReason; status: ReportStatus; created_at: number }>;
  reporter: ReporterStats | undefined;
}

export interface Ban {
  id: string;
  userId: string | null;
  deviceId: string | null;
  reason: string;
  until: number | null;
  createdAt: number;
  liftedAt: number | null;
  active: boolean;
}

export interface Appeal {
  id: string;
  userId: string;
  banId: string;
  message: string;
  status: 'open' | 'upheld' | 'lifted';
  createdAt: number;
  banReason: string;
  banUntil: number | null;
}

export interface AuditEntry {
  id: string;
  staffId: string | null;
  action: string;
  target: string | null;
  detail: Record<string, unknown> | null;
  at: number;
}

export interface StaffMember {
  id: string;
  email: string;
  role: StaffRole;
  createdAt: number;
}

/** Shapes of the billing admin API (packages/server/src/metering/adminRoutes.ts). Money in micro-credits. */
export interface EconomicsDay {
  /** UTC day, YYYY-MM-DD. */
  day: string;
  /** Minutes billed, both people of each call counted. */
  minutes: number;
  revenueMicros: number;
  topupMicros: number;
  relayGb: number;
  costMicros: number;
  marginMicros: number;
  perMinute: { revenueMicros: number; costMicros: number; marginMicros: number } | null;
}

export interface EconomicsReport {
  from: number;
  to: number;
  costModel: { relayPerGbMicros: number; serverPerHourMicros: number; paymentFeePercent: number };
  days: EconomicsDay[];
}
