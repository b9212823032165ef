import type { AppMessageId } from '../i18n/index.js';
import type { AppText } from '../messages.js';
import type { LivenessAction } from '@duet/client';
import { VERIFICATION_REASONS } from '@duet/protocol';

/**
 * The browser's reading of the liveness actions. It only guides the person and picks which frames
 * to upload; the server runs the same detector on those frames and decides
 * (packages/server/src/verification/verify.ts). The rules here mirror the server's with a margin:
 * an action counts here only when it is clearly past the server's threshold, and a frame is kept
 * only when every other action is clearly short of it, so what the browser sends is what the
 * server will see.
 */

/** What the detector measured on the main face of one frame (the server's `FaceMeasure`, trimmed). */
export interface FaceReading {
  /** How many faces were found. */
  faces: number;
  /** Detector confidence of the main face, 0..1. */
  score: number;
  /** Radians; positive when the nose points to the image's left (the person's right). */
  yaw: number;
  /** Radians; positive when the head tilts down. */
  pitch: number;
  /** Eye aspect ratio, both eyes averaged (about 0.3 open, under 0.15 closed). */
  eyeOpenness: number;
  /** Inner lip gap / mouth width (about 0–0.2 closed, above 0.3 open). */
  mouthOpenness: number;
}

/** Where the face is at rest: head pose from the neutral frame, eyes and mouth from recent frames. */
export interface Reference {
  yaw: number;
  pitch: number;
  eyeOpenness: number;
  mouthOpenness: number;
}

/** The server's defaults (DEFAULT_THRESHOLDS in verify.ts). */
const SERVER = { turnYaw: 0.15, lookUpPitch: 0.15, blinkRatio: 0.75, mouthOpenDelta: 0.15, baselineMaxAngle: 0.25, minFaceScore: 0.5 };

/** Clearly done: a margin past the server's threshold. */
export const STRONG = { turnYaw: 0.18, lookUpPitch: 0.18, blinkRatio: 0.68, mouthOpenDelta: 0.18 };
/** Clearly not done: a margin short of the server's threshold. */
export const WEAK = {
  turnYaw: SERVER.turnYaw * 0.85,
  lookUpPitch: SERVER.lookUpPitch * 0.85,
  mouthOpenDelta: SERVER.mouthOpenDelta * 0.85,
};
/** The neutral frame faces the camera with a margin inside the server's limit. */
export const NEUTRAL_MAX_ANGLE = 0.2;
export const MIN_FACE_SCORE = 0.6;

/** People blink without being asked; the server tolerates it, and so does the browser. */
const TOLERATED: readonly LivenessAction[] = ['blink'];

type Limits = { turnYaw: number; lookUpPitch: number; mouthOpenDelta: number; blinkRatio: number };

/** The actions a face shows relative to `ref`, with the given thresholds (the server's `actionsIn`). */
export function actionsIn(face: FaceReading, ref: Reference, t: Limits): LivenessAction[] {
  const out: LivenessAction[] = [];
  const dYaw = face.yaw - ref.yaw;
  if (dYaw >= t.turnYaw) out.push('turn_right');
  if (dYaw <= -t.turnYaw) out.push('turn_left');
  if (face.pitch - ref.pitch <= -t.lookUpPitch) out.push('look_up');
  if (face.eyeOpenness <= t.blinkRatio * ref.eyeOpenness) out.push('blink');
  if (face.mouthOpenness - ref.mouthOpenness >= t.mouthOpenDelta) out.push('open_mouth');
  return out;
}

/** Whether the face is usable at all: one face, found with confidence. */
export function usable(face: FaceReading): boolean {
  return face.faces === 1 && face.score >= MIN_FACE_SCORE;
}

/** The head's usual pose over recent readings (the median), so a frame caught mid-movement is not taken for rest. */
export function usualPose(recent: readonly FaceReading[]): { yaw: number; pitch: number } | null {
  if (recent.length < 3) return null;
  return {
    yaw: quantile(
      recent.map((f) => f.yaw),
      0.5,
    ),
    pitch: quantile(
      recent.map((f) => f.pitch),
      0.5,
    ),
  };
}

/** How far the neutral frame may be from the usual pose: a frame halfway into a turn or a tilt is not neutral. */
const NEUTRAL_STEADY = 0.08;

/** A frame that can open the attempt: facing the camera as usual, eyes open and mouth closed. */
export function isNeutral(
  face: FaceReading,
  resting: Pick<Reference, 'eyeOpenness' | 'mouthOpenness'>,
  usual: { yaw: number; pitch: number } | null,
): boolean {
  if (!usable(face)) return false;
  if (Math.abs(face.yaw) > NEUTRAL_MAX_ANGLE || Math.abs(face.pitch) > NEUTRAL_MAX_ANGLE) return false;
  if (usual && (Math.abs(face.yaw - usual.yaw) > NEUTRAL_STEADY || Math.abs(face.pitch - usual.pitch) > NEUTRAL_STEADY)) return false;
  return face.eyeOpenness > SERVER.blinkRatio * resting.eyeOpenness && face.mouthOpenness - resting.mouthOpenness < WEAK.mouthOpenDelta;
}

/** A frame showing `action` clearly, and nothing else the server could count against it. */
export function shows(face: FaceReading, ref: Reference, action: LivenessAction): boolean {
  if (!usable(face)) return false;
  if (!actionsIn(face, ref, { ...STRONG }).includes(action)) return false;
  const others = actionsIn(face, ref, { ...WEAK, blinkRatio: SERVER.blinkRatio }).filter((a) => a !== action && !TOLERATED.includes(a));
  return others.length === 0;
}

/** A frame at rest relative to the neutral frame (nothing but a tolerated blink). */
export function atRest(face: FaceReading, ref: Reference): boolean {
  return usable(face) && actionsIn(face, ref, { ...WEAK, blinkRatio: SERVER.blinkRatio }).length === 0;
}

/** Linear-interpolated quantile, q in [0, 1] (as the server computes it). */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return 0;
  const s = [...values].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  return s[lo]! + (s[Math.min(lo + 1, s.length - 1)]! - s[lo]!) * (pos - lo);
}

/**
 * Eyes and mouth at rest from recent readings: most frames show open eyes and a closed mouth, so
 * the upper quartile of eye openness and the lower quartile of mouth openness (as on the server).
 */
export function restingLevels(recent: readonly FaceReading[]): Pick<Reference, 'eyeOpenness' | 'mouthOpenness'> {
  return {
    eyeOpenness: quantile(
      recent.map((f) => f.eyeOpenness),
      0.75,
    ),
    mouthOpenness: quantile(
      recent.map((f) => f.mouthOpenness),
      0.25,
    ),
  };
}

/** What the person is asked to do, in their own frame of reference (message ids). */
export const PROMPTS: Record<LivenessAction, { title: AppMessageId; hint: AppMessageId }> = {
  turn_left: { title: 'app.verify.prompt.turn_left', hint: 'app.verify.hint.turn' },
  turn_right: { title: 'app.verify.prompt.turn_right', hint: 'app.verify.hint.turn' },
  blink: { title: 'app.verify.prompt.blink', hint: 'app.verify.hint.blink' },
  open_mouth: { title: 'app.verify.prompt.open_mouth', hint: 'app.verify.hint.open_mouth' },
  look_up: { title: 'app.verify.prompt.look_up', hint: 'app.verify.hint.look_up' },
};

/** A sentence per reason code the server gives (`VERIFICATION_REASONS`; i18n.test.ts checks each has one). */
const REASONS: ReadonlySet<string> = new Set(VERIFICATION_REASONS);

export function reasonText(t: AppText, code: string): string {
  return t(REASONS.has(code) ? (`app.verify.reason.${code}` as AppMessageId) : 'app.verify.reason.other');
}
