/**
 * Verified humans: the shapes of the HTTP API (`/api/me/verification*`) a browser uses to prove
 * the person on camera is live. The server judges every answer itself (see docs/verification.md).
 */

/** What a person can be asked to do, in their own frame of reference (turn_left: towards their left). */
export const LIVENESS_ACTIONS = ['turn_left', 'turn_right', 'blink', 'open_mouth', 'look_up'] as const;
export type LivenessAction = (typeof LIVENESS_ACTIONS)[number];

/**
 * Why an attempt failed. Stable strings: clients show a message per code, telemetry counts them.
 * Listed roughly in the order they are checked.
 */
export const VERIFICATION_REASONS = [
  'bad_request',
  'too_few_frames',
  'too_many_frames',
  'frame_too_large',
  'bad_image',
  'blank_frame',
  'nonce_unknown',
  'nonce_reused',
  'deadline_missed',
  'bad_timestamps',
  'no_face',
  'multiple_faces',
  'no_baseline',
  'face_changed',
  'spoof_suspected',
  'liveness_failed',
  'action_missing',
  'unexpected_action',
  'wrong_order',
  'age_unconfirmed',
] as const;
export type VerificationReason = (typeof VERIFICATION_REASONS)[number];

/** `GET /api/me/verification`. */
export interface VerificationStatus {
  /** The operator offers verification on this server. */
  enabled: boolean;
  /** The operator lets only verified people start calls. */
  required: boolean;
  verified: boolean;
  /** Until when the person counts as verified (server ms since the epoch), or null. */
  verifiedUntil: number | null;
  /** Failed attempts the person may still make before waiting; null when not limited. */
  attemptsLeft: number;
  /** When attemptsLeft is 0: how long until the next attempt is allowed. */
  retryAfterMs: number | null;
}

/** `POST /api/me/verification/challenge`: perform `actions` in order before `deadline`. */
export interface VerificationChallengeInfo {
  nonce: string;
  actions: LivenessAction[];
  issuedAt: number;
  deadline: number;
  /** How long the person has, from now (the server's and the browser's clocks may differ). */
  ttlMs: number;
}

/** One captured frame: when it was taken (ms after the challenge arrived) and a JPEG or PNG, base64 without a data: prefix. */
export interface VerificationFrame {
  offsetMs: number;
  image: string;
}

/** `POST /api/me/verification` with `{ nonce, frames }`. */
export interface VerificationResultInfo {
  ok: boolean;
  /** Reason codes when it failed (e.g. wrong_order, action_missing, deadline_missed, face_changed, spoof_suspected). */
  reasons: string[];
  /** A sentence for the person. */
  message: string;
  verifiedUntil: number | null;
}
