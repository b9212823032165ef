import { z } from 'zod';
import { LIVENESS_ACTIONS } from './challenge.js';
import type { VerificationReason } from './verify.js';

/** Bounds on one upload. The server enforces them before decoding a single frame. */
export const VERIFICATION_LIMITS = Object.freeze({
  minFrames: 3,
  maxFrames: 24,
  /** Largest frame, in bytes of JPEG or PNG. */
  maxFrameBytes: 200_000,
  /** Largest width or height of a frame, in pixels. */
  maxFrameSide: 1280,
  /** Latest capture offset accepted at all (the challenge's own deadline is usually far shorter). */
  maxOffsetMs: 120_000,
});

const maxBase64Chars = Math.ceil(VERIFICATION_LIMITS.maxFrameBytes / 3) * 4;

export const livenessActionSchema = z.enum(LIVENESS_ACTIONS);

/** What the server sends when it issues a challenge. Times are server milliseconds since the epoch. */
export const verificationChallengeSchema = z.strictObject({
  nonce: z.string().regex(/^[0-9a-f]{32}$/),
  actions: z.array(livenessActionSchema).min(1).max(LIVENESS_ACTIONS.length),
  issuedAt: z.number().int(),
  deadline: z.number().int(),
});
export type VerificationChallenge = z.infer<typeof verificationChallengeSchema>;

export const verificationFrameSchema = z.strictObject({
  /** Capture time in ms since the client received the challenge. */
  offsetMs: z.number().int().min(0).max(VERIFICATION_LIMITS.maxOffsetMs),
  /** JPEG or PNG, base64. */
  image: z.base64().max(maxBase64Chars),
});

/** What the browser uploads to answer a challenge. */
export const verificationSubmissionSchema = z.strictObject({
  nonce: z.string().regex(/^[0-9a-f]{32}$/),
  frames: z.array(verificationFrameSchema).min(VERIFICATION_LIMITS.minFrames).max(VERIFICATION_LIMITS.maxFrames),
});
export type VerificationSubmission = z.infer<typeof verificationSubmissionSchema>;

/** A submission with its frames decoded from base64, as the verifier takes it. */
export interface DecodedSubmission {
  nonce: string;
  frames: { offsetMs: number; bytes: Uint8Array }[];
}

export type ParseResult = { ok: true; value: DecodedSubmission } | { ok: false; reason: VerificationReason };

/**
 * Validates an uploaded body (already JSON-parsed). Never throws and never echoes the input: a
 * failure is one reason code.
 */
export function parseSubmission(body: unknown): ParseResult {
  const parsed = verificationSubmissionSchema.safeParse(body);
  if (!parsed.success) return { ok: false, reason: reasonFor(parsed.error) };
  const frames = parsed.data.frames.map((f) => ({ offsetMs: f.offsetMs, bytes: new Uint8Array(Buffer.from(f.image, 'base64')) }));
  if (frames.some((f) => f.bytes.byteLength > VERIFICATION_LIMITS.maxFrameBytes)) return { ok: false, reason: 'frame_too_large' };
  return { ok: true, value: { nonce: parsed.data.nonce, frames } };
}

function reasonFor(error: z.ZodError): VerificationReason {
  for (const issue of error.issues) {
    const [first, , third] = issue.path;
    if (first === 'frames' && issue.path.length === 1) {
      if (issue.code === 'too_big') return 'too_many_frames';
      if (issue.code === 'too_small') return 'too_few_frames';
    }
    if (first === 'frames' && third === 'image' && issue.code === 'too_big') return 'frame_too_large';
  }
  return 'bad_request';
}
