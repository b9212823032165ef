import type { Generated } from 'kysely';

/** Times are Unix epoch milliseconds; ids are server-issued UUIDs. */
export interface UsersTable {
  id: string;
  created_at: number;
  rules_accepted_at: number | null;
  rules_version: number | null;
  /** A random id the browser keeps, so a ban can hold across new guest accounts. */
  device_id: Generated<string | null>;
  /** Passed the liveness check; counts as verified until then (null: not verified, or revoked). */
  verified_until: Generated<number | null>;
  /** Age estimated by the last liveness check, in whole years (never the face itself). */
  age_estimate: Generated<number | null>;
  /** Age assurance: passed | refused | review (asked a moderator) | confirmed (a moderator confirmed). */
  age_status: Generated<'passed' | 'refused' | 'review' | 'confirmed' | null>;
  age_checked_at: Generated<number | null>;
  /** What the person wrote when asking for a human review of a refusal. */
  age_review_note: Generated<string | null>;
}

export interface VerificationChallengesTable {
  nonce: string;
  user_id: string;
  /** Comma-separated actions, in the order asked. */
  actions: string;
  issued_at: number;
  deadline: number;
  /** Set once when the answer arrives: a nonce is single-use. */
  used_at: number | null;
}

export interface VerificationAttemptsTable {
  id: string;
  user_id: string;
  at: number;
  ok: number;
  /** Comma-separated reason codes (empty when passed). */
  reasons: string;
  /** Server time spent judging the attempt. */
  ms: number;
  /** JSON: antispoof, liveness and same-face scores. */
  scores: string | null;
}

export interface CallsTable {
  id: string;
  user_a: string;
  user_b: string;
  state: string;
  matched_at: number;
  connecting_at: number | null;
  connected_at: number | null;
  ended_at: number | null;
  end_reason: string | null;
  /** The user who ended it, or null when the server did (timeouts, shutdown). */
  ended_by: string | null;
  /** How long each side waited in the queue before this match. */
  a_wait_ms: number | null;
  b_wait_ms: number | null;
  /** JSON MediaPath: the candidate pair each side's browser selected. */
  a_path: string | null;
  b_path: string | null;
  /** Bytes through the relay: coturn's accounting (managed), or the browsers' figure bounded by TURN_MAX_BPS (external). */
  bytes_relayed: number | null;
  /** 1 when the relay's own evidence (not a browser's sample alone) says the call's media went through it. */
  relayed: Generated<number>;
  /** How often the call dropped and recovered, and the time spent reconnecting (not talk time). */
  reconnects: Generated<number>;
  reconnecting_ms: Generated<number>;
  /** Comma-separated candidate types each browser gathered (host, srflx, prflx, relay). */
  a_gathered: string | null;
  b_gathered: string | null;
  /** Server time of the last heartbeat showing each side receiving media (crash settlement). */
  a_media_until: Generated<number | null>;
  b_media_until: Generated<number | null>;
  /** Billable time so far: both sides receiving media. */
  billed_ms: Generated<number>;
  /** JSON MeterState: the meter's view of the call, so a restarted server can continue it. */
  meter_state: Generated<string | null>;
  /** 1: media only through the relay (IP privacy), kept across a restart. */
  relay_only: Generated<number>;
  /** The node that kept this record and metered the call (several nodes: who settles it if that node dies). */
  node: Generated<string | null>;
  /** Each side's daily free time for this call, fixed when it connected (null: none). */
  a_free_ms: Generated<number | null>;
  b_free_ms: Generated<number | null>;
}

export interface LedgerTxnsTable {
  id: string;
  /** Idempotency key: the same event posted twice is one transaction. */
  ref: string;
  kind: string;
  created_at: number;
  meta: string | null;
}

export interface LedgerEntriesTable {
  txn_id: string;
  /** `user:<id>`, `revenue`, `grants`, `payments`, `adjustments`. */
  account: string;
  /** Micro-credits; the entries of one transaction sum to zero. */
  amount: number;
}

export interface CallQualityTable {
  call_id: string;
  side: 'a' | 'b';
  seq: number;
  at: number;
  final: number;
  rtt_ms: number | null;
  jitter_ms: number | null;
  packet_loss: number | null;
  inbound_kbps: number | null;
  outbound_kbps: number | null;
  fps: number | null;
  freeze_count: number | null;
  total_freezes_ms: number | null;
  audio_concealment: number | null;
  est_delay_ms: number | null;
  bytes_total: number | null;
}

/** One row per person, step and day: the funnel counts unique people. */
export interface FunnelTable {
  day: string;
  step: string;
  user_id: string;
}

export interface BlocksTable {
  blocker_id: string;
  blocked_id: string;
  call_id: string | null;
  created_at: number;
}

export interface ReportsTable {
  id: Generated<string>;
  call_id: string;
  reporter_id: string;
  reported_id: string;
  reason: string;
  comment: string | null;
  created_at: number;
  status: Generated<'open' | 'dismissed' | 'warned' | 'banned'>;
  resolved_by: Generated<string | null>;
  resolved_at: Generated<number | null>;
  /** JSON [{from: 'reporter' | 'reported', text, at}], from the server's own relay of the chat. */
  transcript: Generated<string | null>;
  /** The partner's video frame the reporter's browser captured, base64 JPEG. */
  frame_jpeg: Generated<string | null>;
  /** A screening flag's evidence: the classifier's scores for the flagged frame, JSON. */
  screen_scores: Generated<string | null>;
}

export interface StaffTable {
  id: string;
  email: string;
  password_hash: string;
  role: 'moderator' | 'admin';
  created_at: number;
}

export interface StaffSessionsTable {
  token_hash: string;
  staff_id: string;
  csrf: string;
  expires_at: number;
}

export interface BansTable {
  id: string;
  user_id: string | null;
  device_id: string | null;
  reason: string;
  /** null: permanent. */
  until: number | null;
  created_by: string | null;
  created_at: number;
  lifted_at: number | null;
}

export interface AppealsTable {
  id: string;
  user_id: string;
  ban_id: string;
  message: string;
  status: Generated<'open' | 'upheld' | 'lifted'>;
  created_at: number;
}

export interface AuditLogTable {
  id: string;
  staff_id: string | null;
  action: string;
  target: string | null;
  detail: string | null;
  at: number;
}

export interface Database {
  users: UsersTable;
  calls: CallsTable;
  blocks: BlocksTable;
  reports: ReportsTable;
  call_quality: CallQualityTable;
  funnel: FunnelTable;
  staff: StaffTable;
  staff_sessions: StaffSessionsTable;
  bans: BansTable;
  appeals: AppealsTable;
  audit_log: AuditLogTable;
  ledger_txns: LedgerTxnsTable;
  ledger_entries: LedgerEntriesTable;
  verification_challenges: VerificationChallengesTable;
  verification_attempts: VerificationAttemptsTable;
  welcome_grants: WelcomeGrantsTable;
  verification_requests: VerificationRequestsTable;
}

/** One challenge asked for or upload admitted: the per-person and per-address limits count these. */
export interface VerificationRequestsTable {
  id: string;
  kind: 'challenge' | 'upload';
  user_id: string;
  /** HMAC of the client address (never the address itself). */
  address_hash: string;
  at: number;
}

export interface WelcomeGrantsTable {
  user_id: string;
  /** HMAC of the client address (never the address itself). */
  address_hash: string;
  device_id: string | null;
  at: number;
}
