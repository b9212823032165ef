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
import { ImageDecodeError } from './image.js';
import { VERIFICATION_LIMITS, type DecodedSubmission } from './schema.js';
import { type AnalyzedFrame, decide, DEFAULT_THRESHOLDS, type Thresholds, type VerificationResult } from './verify.js';

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
}

export interface VerificationOutcome extends VerificationResult {
  /** Set when ok: until when the person counts as verified (server ms since the epoch). */
  verifiedUntil?: number;
  /** Time spent on the server for this attempt, in ms (decode and detector included). */
  ms: number;
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

  constructor(options: VerifierOptions) {
    this.#detector = options.detector;
    this.#store = options.store;
    this.#clock = options.clock;
    this.#challenge = Object.freeze({ ...DEFAULT_CHALLENGE_OPTIONS, ...options.challenge });
    this.#thresholds = Object.freeze({ ...DEFAULT_THRESHOLDS, ...options.thresholds });
    this.#validityMs = options.validityMs ?? 30 * 24 * 3600_000;
    this.#graceMs = options.uploadGraceMs ?? 3000;
    this.#random = options.random ?? cryptoRandom;
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
  async verify(subject: string, submission: DecodedSubmission): Promise<VerificationOutcome> {
    const started = performance.now();
    const fail = (reason: VerificationResult['reasons'][number]): VerificationOutcome => ({
      ok: false,
      reasons: [reason],
      observed: [],
      scores: { real: 0, live: 0, similarity: 0 },
      frameActions: [],
      ms: performance.now() - started,
    });
    const taken = await this.#store.take(submission.nonce);
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

    const analyzed: AnalyzedFrame[] = [];
    for (const f of frames) {
      try {
        analyzed.push({ offsetMs: f.offsetMs, analysis: await this.#detector.analyze(f.bytes) });
      } catch (err) {
        if (err instanceof ImageDecodeError) return fail('bad_image');
        throw err;
      }
    }
    // The grace covers the upload only: the frames themselves must fall within the deadline.
    const result = decide(challenge, analyzed, { receivedAt: Math.min(receivedAt, challenge.deadline) }, this.#thresholds);
    const outcome: VerificationOutcome = { ...result, ms: performance.now() - started };
    if (result.ok) outcome.verifiedUntil = receivedAt + this.#validityMs;
    return outcome;
  }
}

/** Whether a verification granted until `verifiedUntil` still holds at `now`. */
export function isVerified(verifiedUntil: number | undefined | null, now: number): boolean {
  return verifiedUntil !== undefined && verifiedUntil !== null && now < verifiedUntil;
}
