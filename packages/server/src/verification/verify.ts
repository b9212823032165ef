import { VERIFICATION_REASONS, type VerificationReason } from '@duet/protocol';
import type { Challenge, LivenessAction } from './challenge.js';
import type { FaceMeasure, FrameAnalysis } from './detector.js';

export { VERIFICATION_REASONS, type VerificationReason };

/**
 * What counts as an action, as the same face, as real. Angles are radians as human reports them,
 * ratios are the detector's eye and mouth aspect ratios. Tuned on the generated clips in
 * tests/fixtures/faces; see docs/verification.md for the measured margins.
 */
export interface Thresholds {
  /** Head turn: yaw moves at least this far from the baseline. Default 0.15 (human's yaw under-reads: a 40° turn reads about 0.3). */
  turnYaw: number;
  /** Look up: pitch decreases at least this far from the baseline. Default 0.15. */
  lookUpPitch: number;
  /**
   * Blink: eye openness at most this fraction of the eyes' open level (the attempt's 75th percentile).
   * Default 0.75: the generated blinks read 0.45–0.68; a real blink reads lower.
   */
  blinkRatio: number;
  /** Open mouth: mouth openness at least this much above its closed level (the attempt's 25th percentile). Default 0.15. */
  mouthOpenDelta: number;
  /** The first frame is the baseline and must face the camera: |yaw| and |pitch| at most this. Default 0.25. */
  baselineMaxAngle: number;
  /** Least detector confidence for a frame's face to count. Default 0.5. */
  minFaceScore: number;
  /** Frames after the first that may show no face (the detector misses a turned head now and then). Default 1. */
  maxFacelessFrames: number;
  /** Least cosine similarity of every frame's face descriptor to the baseline's. Default 0.55. */
  minSimilarity: number;
  /** Least median anti-spoofing score over the frames. Default 0.3. */
  minReal: number;
  /** Least median liveness score over the frames. Default 0.5. */
  minLive: number;
  /** Actions that may happen without being asked for (people blink). Default ['blink']. */
  tolerated: readonly LivenessAction[];
}

export const DEFAULT_THRESHOLDS: Readonly<Thresholds> = Object.freeze({
  turnYaw: 0.15,
  lookUpPitch: 0.15,
  blinkRatio: 0.75,
  mouthOpenDelta: 0.15,
  baselineMaxAngle: 0.25,
  minFaceScore: 0.5,
  maxFacelessFrames: 1,
  minSimilarity: 0.55,
  minReal: 0.3,
  minLive: 0.5,
  tolerated: Object.freeze(['blink'] as LivenessAction[]),
});

export interface AnalyzedFrame {
  /** When the client captured it, in ms since it received the challenge. */
  offsetMs: number;
  analysis: FrameAnalysis;
}

export interface VerificationScores {
  /** Median anti-spoofing score. */
  real: number;
  /** Median liveness score. */
  live: number;
  /** Lowest descriptor similarity to the baseline frame. */
  similarity: number;
}

export interface VerificationResult {
  ok: boolean;
  /** Empty when ok; otherwise every reason that applies, in `VERIFICATION_REASONS` order. */
  reasons: VerificationReason[];
  /** Actions seen, in the order they started (tolerated extras left out). */
  observed: LivenessAction[];
  scores: VerificationScores;
  /** Per frame, the actions seen in it; for diagnostics. */
  frameActions: LivenessAction[][];
}

export function cosineSimilarity(a: readonly number[], b: readonly number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

function median(v: readonly number[]): number {
  if (v.length === 0) return 0;
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Linear-interpolated quantile, q in [0, 1]. */
function quantile(v: readonly number[], q: number): number {
  if (v.length === 0) return 0;
  const s = [...v].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  return s[lo]! + (s[Math.min(lo + 1, s.length - 1)]! - s[lo]!) * (pos - lo);
}

/** Where a face is at rest: head pose from the first frame, eyes and mouth from the whole attempt. */
export type Reference = Pick<FaceMeasure, 'yaw' | 'pitch' | 'eyeOpenness' | 'mouthOpenness'>;

/** The actions a face shows relative to the reference. */
export function actionsIn(face: FaceMeasure, baseline: Reference, t: Thresholds): LivenessAction[] {
  const out: LivenessAction[] = [];
  const dYaw = face.yaw - baseline.yaw;
  // human's yaw is positive when the nose points to the image's left, i.e. the person's right.
  if (dYaw >= t.turnYaw) out.push('turn_right');
  if (dYaw <= -t.turnYaw) out.push('turn_left');
  if (face.pitch - baseline.pitch <= -t.lookUpPitch) out.push('look_up');
  if (face.eyeOpenness <= t.blinkRatio * baseline.eyeOpenness) out.push('blink');
  if (face.mouthOpenness - baseline.mouthOpenness >= t.mouthOpenDelta) out.push('open_mouth');
  return out;
}

export interface DecideContext {
  /** Server time the upload arrived. */
  receivedAt: number;
  /** How far a frame's offset may run past the time the server has seen elapse (latency, clock rate). Default 2000 ms. */
  clockSlackMs?: number;
}

/**
 * The verdict on one attempt, from the detector's measurements of its frames. Pure: no I/O, no clock.
 *
 * Rules: the first frame is the baseline and faces the camera; every frame but `maxFacelessFrames`
 * has exactly one face (none has two), the same person as the baseline's; the median anti-spoofing
 * and liveness scores pass; each requested action is seen in at least one frame, and the requested
 * actions first appear in the requested order; no action that was not requested appears unless it is tolerated; every frame was captured
 * before the deadline, in increasing time order.
 */
export function decide(
  challenge: Challenge,
  frames: readonly AnalyzedFrame[],
  context: DecideContext,
  thresholds: Thresholds = DEFAULT_THRESHOLDS,
): VerificationResult {
  const reasons = new Set<VerificationReason>();
  const slack = context.clockSlackMs ?? 2000;
  const allowedMs = challenge.deadline - challenge.issuedAt;

  if (context.receivedAt > challenge.deadline) reasons.add('deadline_missed');
  for (let i = 0; i < frames.length; i++) {
    const f = frames[i]!;
    if (f.offsetMs > allowedMs) reasons.add('deadline_missed');
    if (i > 0 && f.offsetMs <= frames[i - 1]!.offsetMs) reasons.add('bad_timestamps');
    if (f.offsetMs > context.receivedAt - challenge.issuedAt + slack) reasons.add('bad_timestamps');
  }

  let faceless = 0;
  const faces: (FaceMeasure | undefined)[] = frames.map((f, i) => {
    if (f.analysis.faces > 1) reasons.add('multiple_faces');
    const face = f.analysis.face;
    if (!face || face.score < thresholds.minFaceScore) {
      if (i === 0 || ++faceless > thresholds.maxFacelessFrames) reasons.add('no_face');
      return undefined;
    }
    return face;
  });

  const baseline = faces[0];
  const present = faces.filter((f): f is FaceMeasure => f !== undefined);
  const scores: VerificationScores = {
    real: median(present.map((f) => f.real)),
    live: median(present.map((f) => f.live)),
    similarity: 0,
  };
  let observed: LivenessAction[] = [];
  const frameActions: LivenessAction[][] = frames.map(() => []);

  if (!baseline || Math.abs(baseline.yaw) > thresholds.baselineMaxAngle || Math.abs(baseline.pitch) > thresholds.baselineMaxAngle) {
    if (baseline) reasons.add('no_baseline');
  } else {
    scores.similarity = Math.min(...present.map((f) => cosineSimilarity(f.embedding, baseline.embedding)));
    if (scores.similarity < thresholds.minSimilarity) reasons.add('face_changed');

    // Eyes and mouth at rest: most frames of an attempt show open eyes and a closed mouth, so a
    // quantile over all frames is steadier than the first frame alone (a squint at the start).
    const reference: Reference = {
      yaw: baseline.yaw,
      pitch: baseline.pitch,
      eyeOpenness: quantile(
        present.map((f) => f.eyeOpenness),
        0.75,
      ),
      mouthOpenness: quantile(
        present.map((f) => f.mouthOpenness),
        0.25,
      ),
    };

    // Events: an action starts in the frame where it appears after being absent.
    const events: { action: LivenessAction; frame: number }[] = [];
    let previous = new Set<LivenessAction>();
    faces.forEach((face, i) => {
      const now = new Set(face ? actionsIn(face, reference, thresholds) : []);
      frameActions[i] = [...now];
      for (const a of now) if (!previous.has(a)) events.push({ action: a, frame: i });
      previous = now;
    });
    const requested = challenge.actions;
    const rank = (a: LivenessAction) => {
      const r = requested.indexOf(a);
      return r < 0 ? requested.length : r;
    };
    // Actions that start in the same frame are taken in the requested order (simultaneous is no wrong order).
    events.sort((a, b) => a.frame - b.frame || rank(a.action) - rank(b.action));
    const relevant = events.filter((e) => requested.includes(e.action) || !thresholds.tolerated.includes(e.action));
    observed = relevant.map((e) => e.action).filter((a, i, all) => i === 0 || all[i - 1] !== a);

    if (requested.some((a) => !observed.includes(a))) reasons.add('action_missing');
    if (observed.some((a) => !requested.includes(a))) reasons.add('unexpected_action');
    const firsts = requested.map((a) => observed.indexOf(a)).filter((i) => i >= 0);
    if (firsts.some((v, i) => i > 0 && v < firsts[i - 1]!)) reasons.add('wrong_order');
  }

  if (present.length > 0 && scores.real < thresholds.minReal) reasons.add('spoof_suspected');
  if (present.length > 0 && scores.live < thresholds.minLive) reasons.add('liveness_failed');

  const ordered = VERIFICATION_REASONS.filter((r) => reasons.has(r));
  return { ok: ordered.length === 0, reasons: ordered, observed, scores, frameActions };
}
