/**
 * Why a call ended. One taxonomy shared by telemetry, metering and the UI.
 * Order and spelling are a stable contract (see PRODUCT.md); append, never rename.
 */
export const END_REASONS = [
  'next',
  'leave',
  'blocked',
  'reported',
  'ice_failed',
  'connection_lost',
  'heartbeat_timeout',
  'moderator',
  'banned',
  'insufficient_credits',
  'server_shutdown',
] as const;

export type EndReason = (typeof END_REASONS)[number];

/** Reasons after which the remaining person is put back in the queue automatically. */
export const REQUEUE_PARTNER_REASONS: ReadonlySet<EndReason> = new Set<EndReason>([
  'next',
  'leave',
  'blocked',
  'reported',
  'ice_failed',
  'connection_lost',
  'heartbeat_timeout',
  // The partner did nothing wrong: back to waiting.
  'banned',
  'insufficient_credits',
]);
