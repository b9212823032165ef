import type { Clock } from '../util/clock.js';
import {
  type Challenge,
  type ChallengeOptions,
  cryptoRandom,
  DEFAULT_CHALLENGE_OPTIONS,
  issueChallenge,
  type NonceStore,
  type RandomSource,
} from './challenge.js';
import type { Detector } from './detector.js';
import { checkHeader, DEFAULT_DECODE_LIMITS, ImageDecodeError } from './image.js';
import { VERIFICATION_LIMITS, type DecodedSubmission } from './schema.js';
import {
  type AnalyzedFrame,
  cosineSimilarity,
  decide,
  DEFAULT_THRESHOLDS,
  type Thresholds,
  type VerificationReason,
  type VerificationResult,
} from './verify.js';

export interface VerifierOptions {
  detector: Detector;
  store: NonceStore;
  clock: Clock;
  challenge?: Partial<ChallengeOptions>;
  thresholds?: Partial<Thresholds>;
  /** How long a passed check keeps a person verified. Default 30 days. */
  validityMs?: number;
  /** Extra time after the deadline for the upload itself to arrive. Default 3000 ms. */
  uploadGraceMs?: number;
  random?: RandomSource;
  /** Age assurance: the estimate must reach this age (0 or absent: off). */
  ageChallenge?: number;
}

/** Per attempt: a moderator already confirmed this person's age, so the estimate is recorded but not a gate. */
export interface VerifyOptions {
  ageConfirmed?: boolean;
}

export interface VerificationOutcome extends VerificationResult {
  /** Set when ok: until when the person counts as verified (server ms since the epoch). */
  verifiedUntil?: number;
  /** Time spent on the server for this attempt, in ms (decode and detector included). */
  ms: number;
  /** Median age estimate over the attempt's faces, in whole years; absent when no face was analysed. */
  age?: number;
}

/**
 * Issues liveness challenges and judges the answers. No socket or HTTP: the route in front of it
 * validates the body with `parseSubmission` and passes the authenticated subject.
 */
export class LivenessVerifier {
  readonly #detector: Detector;
  readonly #store: NonceStore;
  readonly #clock: Clock;
  readonly #challenge: Readonly<ChallengeOptions>;
  readonly #thresholds: Readonly<Thresholds>;
  readonly #validityMs: number;
  readonly #graceMs: number;
  readonly #random: RandomSource;
  readonly #ageChallenge: number;

  constructor(options: VerifierOptions) {
    this.#detector = options.detector;
    this.#store = options.store;
    this.#clock = options.clock;
    this.#challenge = Object.freeze({ ...DEFAULT_CHALLENGE_OPTIONS, ...options.challenge });
    this.#thresholds = Object.freeze({ ...DEFAULT_THRESHOLDS, ...options.thresholds });
    this.#validityMs = options.validityMs ?? 30 * 24 * 3600_000;
    this.#graceMs = options.uploadGraceMs ?? 3000;
    this.#random = options.random ?? cryptoRandom;
    this.#ageChallenge = options.ageChallenge ?? 0;
  }

  get thresholds(): Readonly<Thresholds> {
    return this.#thresholds;
  }

  async issue(subject: string): Promise<Challenge> {
    const challenge = issueChallenge(subject, this.#clock, this.#challenge, this.#random);
    await this.#store.put(challenge);
    return challenge;
  }

  /** Judges an answer. The nonce is spent whatever the outcome. */
  async verify(subject: string, submission: DecodedSubmission, options: VerifyOptions = {}): Promise<VerificationOutcome> {
    const started = performance.now();
    const fail = (reason: VerificationResult['reasons'][number]): VerificationOutcome => ({
      ok: false,
      reasons: [reason],
      observed: [],
      scores: { real: 0, live: 0, similarity: 0 },
      frameActions: [],
      ms: performance.now() - started,
    });
    const taken = await this.#store.take(submission.nonce, subject);
    if (taken.kind === 'used') return fail('nonce_reused');
    if (taken.kind === 'unknown' || taken.challenge.subject !== subject) return fail('nonce_unknown');
    const challenge = taken.challenge;
    const receivedAt = this.#clock.now();
    // Late uploads are refused before any frame is decoded: the detector is the expensive part.
    if (receivedAt > challenge.deadline + this.#graceMs) return fail('deadline_missed');
    const { frames } = submission;
    if (frames.length < VERIFICATION_LIMITS.minFrames) return fail('too_few_frames');
    if (frames.length > VERIFICATION_LIMITS.maxFrames) return fail('too_many_frames');
    if (frames.some((f) => f.bytes.byteLength > VERIFICATION_LIMITS.maxFrameBytes)) return fail('frame_too_large');

    // Cheap checks before the full detector (~0.3 s a frame), so junk never buys its time: every
    // header (format, size) without decoding, then the first frame alone, shrunk, for a face.
    const analyzed: AnalyzedFrame[] = [];
    try {
      for (const f of frames) checkHeader(f.bytes, DEFAULT_DECODE_LIMITS);
      const first = await this.#detector.screen(frames[0]!.bytes);
      if (first.uniform) return fail('blank_frame');
      if (first.faces === 0) return fail('no_face');
      for (const f of frames) {
        analyzed.push({ offsetMs: f.offsetMs, analysis: await this.#detector.analyze(f.bytes) });
        // Stop at the first frame that already decides the attempt fails.
        const hopeless = doomed(analyzed, this.#thresholds);
        if (hopeless) return fail(hopeless);
      }
    } catch (err) {
      if (err instanceof ImageDecodeError) return fail(err.reason === 'too_large' ? 'frame_too_large' : 'bad_image');
      throw err;
    }
    // The grace covers the upload only: the frames themselves must fall within the deadline.
    const result = decide(challenge, analyzed, { receivedAt: Math.min(receivedAt, challenge.deadline) }, this.#thresholds);
    const outcome: VerificationOutcome = { ...result, ms: performance.now() - started };
    const age = ageEstimate(analyzed);
    if (age !== undefined) outcome.age = age;
    // The age gate comes after liveness: only a live face's estimate counts, and a failed liveness
    // check says why in its own words rather than as an age refusal.
    if (outcome.ok && this.#ageChallenge > 0 && !options.ageConfirmed && (age === undefined || age < this.#ageChallenge)) {
      outcome.ok = false;
      outcome.reasons = ['age_unconfirmed'];
    }
    if (outcome.ok) outcome.verifiedUntil = receivedAt + this.#validityMs;
    return outcome;
  }
}

/**
 * The reason the attempt will fail whatever the remaining frames show, judged on the frames so far
 * by the same rules as `decide` (more than one face, too many faceless frames, a changed face).
 */
function doomed(frames: readonly AnalyzedFrame[], t: Readonly<Thresholds>): VerificationReason | undefined {
  const last = frames.at(-1)!.analysis;
  if (last.faces > 1) return 'multiple_faces';
  const seen = frames.map((f) => (f.analysis.face && f.analysis.face.score >= t.minFaceScore ? f.analysis.face : undefined));
  if (!seen[0] || seen.slice(1).filter((f) => !f).length > t.maxFacelessFrames) return 'no_face';
  const face = seen.at(-1);
  if (face && frames.length > 1 && cosineSimilarity(face.embedding, seen[0].embedding) < t.minSimilarity) return 'face_changed';
  return undefined;
}

/** The median of the frames' age estimates, rounded down to whole years: one odd frame moves nothing. */
export function ageEstimate(frames: readonly AnalyzedFrame[]): number | undefined {
  const ages = frames.flatMap((f) => (f.analysis.face?.age !== undefined ? [f.analysis.face.age] : [])).sort((a, b) => a - b);
  if (ages.length === 0) return undefined;
  const m = ages.length >> 1;
  return Math.floor(ages.length % 2 ? ages[m]! : (ages[m - 1]! + ages[m]!) / 2);
}

/** Whether a verification granted until `verifiedUntil` still holds at `now`. */
export function isVerified(verifiedUntil: number | undefined | null, now: number): boolean {
  return verifiedUntil !== undefined && verifiedUntil !== null && now < verifiedUntil;
}
