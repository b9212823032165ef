import { randomBytes } from 'node:crypto';
import type { Clock } from '../util/clock.js';

/** What a person can be asked to do, in their own frame of reference (turn_left: towards their left). */
export const LIVENESS_ACTIONS = ['turn_left', 'turn_right', 'blink', 'open_mouth', 'look_up'] as const;
export type LivenessAction = (typeof LIVENESS_ACTIONS)[number];

export interface Challenge {
  /** 128 random bits, hex; single use. */
  nonce: string;
  /** Who the challenge was issued to; only they may answer it. */
  subject: string;
  /** Distinct actions, to be performed in this order. */
  actions: LivenessAction[];
  /** Server time (ms since the epoch) when it was issued. */
  issuedAt: number;
  /** Server time after which no answer is accepted. */
  deadline: number;
}

export type TakeResult = { kind: 'fresh'; challenge: Challenge } | { kind: 'used' } | { kind: 'unknown' };

/**
 * Where issued challenges wait for their answer. `take` must be atomic: of two concurrent takes of
 * one nonce, exactly one gets `fresh` (a SQL store does it with one conditional UPDATE … RETURNING).
 * A nonce is spent only by the subject it was issued to: for anyone else it is `unknown` and stays open.
 */
export interface NonceStore {
  put(challenge: Challenge): Promise<void>;
  take(nonce: string, subject: string): Promise<TakeResult>;
}

export interface ChallengeOptions {
  /** How long the person has, from issue to upload. Default 20 s. */
  ttlMs: number;
  /** Fewest and most actions per challenge. Default 2 and 3. */
  minActions: number;
  maxActions: number;
}

export const DEFAULT_CHALLENGE_OPTIONS: Readonly<ChallengeOptions> = Object.freeze({
  ttlMs: 20_000,
  minActions: 2,
  maxActions: 3,
});

/** Random source: `bytes(n)` returns n uniformly random bytes. */
export interface RandomSource {
  bytes(n: number): Uint8Array;
}

export const cryptoRandom: RandomSource = { bytes: (n) => new Uint8Array(randomBytes(n)) };

/** Uniform integer in [0, n) from 32 random bits (bias below 2^-24 for small n). */
function randomInt(random: RandomSource, n: number): number {
  const b = random.bytes(4);
  return (((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0) % n;
}

export function pickActions(random: RandomSource, min: number, max: number): LivenessAction[] {
  const pool: LivenessAction[] = [...LIVENESS_ACTIONS];
  const count = min + randomInt(random, max - min + 1);
  const out: LivenessAction[] = [];
  for (let i = 0; i < count; i++) out.push(pool.splice(randomInt(random, pool.length), 1)[0]!);
  return out;
}

export function issueChallenge(
  subject: string,
  clock: Clock,
  options: ChallengeOptions = DEFAULT_CHALLENGE_OPTIONS,
  random: RandomSource = cryptoRandom,
): Challenge {
  if (options.minActions < 1 || options.maxActions < options.minActions || options.maxActions > LIVENESS_ACTIONS.length) {
    throw new RangeError('challenge action counts out of range');
  }
  const issuedAt = clock.now();
  return {
    nonce: Buffer.from(random.bytes(16)).toString('hex'),
    subject,
    actions: pickActions(random, options.minActions, options.maxActions),
    issuedAt,
    deadline: issuedAt + options.ttlMs,
  };
}

/**
 * Nonces in memory, for one node and for tests. A taken nonce is remembered as used until
 * `retainMs` after its deadline, so a replay in that window is told apart from an unknown nonce.
 */
export class MemoryNonceStore implements NonceStore {
  readonly #open = new Map<string, Challenge>();
  readonly #used = new Map<string, number>();
  readonly #clock: Clock;
  readonly #retainMs: number;

  constructor(clock: Clock, retainMs = 10 * 60_000) {
    this.#clock = clock;
    this.#retainMs = retainMs;
  }

  async put(challenge: Challenge): Promise<void> {
    this.#sweep();
    if (this.#open.has(challenge.nonce) || this.#used.has(challenge.nonce)) throw new Error('duplicate nonce');
    this.#open.set(challenge.nonce, challenge);
  }

  async take(nonce: string, subject: string): Promise<TakeResult> {
    this.#sweep();
    const challenge = this.#open.get(nonce);
    if (challenge && challenge.subject !== subject) return { kind: 'unknown' };
    if (challenge) {
      this.#open.delete(nonce);
      this.#used.set(nonce, challenge.deadline + this.#retainMs);
      return { kind: 'fresh', challenge };
    }
    return this.#used.has(nonce) ? { kind: 'used' } : { kind: 'unknown' };
  }

  /** How many nonces are held (open and used); for tests and metrics. */
  get size(): number {
    return this.#open.size + this.#used.size;
  }

  #sweep(): void {
    const now = this.#clock.now();
    for (const [nonce, c] of this.#open) {
      if (c.deadline + this.#retainMs < now) {
        this.#open.delete(nonce);
      }
    }
    for (const [nonce, until] of this.#used) if (until < now) this.#used.delete(nonce);
  }
}
