import type { Generated } from 'kysely';

/** Times are Unix epoch milliseconds; ids are server-issued UUIDs. */
export interface UsersTable {
  id: string;
  created_at: number;
  rules_accepted_at: number | null;
  rules_version: number | null;
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
}

export interface Database {
  users: UsersTable;
  calls: CallsTable;
  blocks: BlocksTable;
  reports: ReportsTable;
}
