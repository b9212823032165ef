/**
 * The people the matchmaking benchmark sends through a pool: a realistic mix of modes, languages,
 * regions and interests (Zipf over a few hundred tags), with a few blocks and recent partners.
 */
import type { MatchPolicy, Ticket } from '../../packages/server/src/matchmaking/rules.js';
import { int, weighted, zipf, type Rng } from './random.js';

export interface Person {
  readonly userId: string;
  readonly mode: string;
  readonly language: string;
  readonly region: string | undefined;
  readonly interests: readonly string[];
  /** Mutable on purpose: the workload adds blocks and recent partners as it goes. */
  readonly blocked: Set<string>;
  readonly recent: Array<{ userId: string; at: number }>;
}

export const VOCABULARY = 300;
const TAGS = Array.from({ length: VOCABULARY }, (_, i) => `tag${i}`);

const mode = weighted([
  ['chat', 80],
  ['language-exchange', 12],
  ['advice', 8],
] as const);
const language = weighted([
  ['en', 55],
  ['es', 15],
  ['pt', 10],
  ['de', 8],
  ['fr', 7],
  ['ja', 5],
] as const);
const region = weighted([
  [undefined, 60],
  ['eu', 14],
  ['na', 12],
  ['sa', 6],
  ['as', 5],
  ['oc', 2],
  ['af', 1],
] as const);
const tag = zipf(VOCABULARY, 1.0);

export const bucketKey = (mode: string, language: string): string => `${mode}\u0000${language}`;

export class Population {
  readonly #people = new Map<string, Person>();
  #next = 0;

  constructor(
    readonly rand: Rng,
    readonly policy: MatchPolicy,
  ) {}

  get(userId: string): Person {
    const p = this.#people.get(userId);
    if (!p) throw new Error(`unknown person ${userId}`);
    return p;
  }

  /** A new person: half give 1–5 interests, 40% a region. No blocks or recent partners yet. */
  create(): Person {
    const r = this.rand;
    const interests: string[] = [];
    if (r() < 0.5) {
      const want = int(r, 1, 5);
      for (let tries = 0; interests.length < want && tries < 20; tries++) {
        const t = TAGS[tag(r)]!;
        if (!interests.includes(t)) interests.push(t);
      }
    }
    const p: Person = {
      userId: `u${(this.#next++).toString(36)}`,
      mode: mode(r),
      language: language(r),
      region: region(r),
      interests,
      blocked: new Set(),
      recent: [],
    };
    this.#people.set(p.userId, p);
    return p;
  }

  /** Forgets people who will never come back, so long runs keep a bounded population. */
  forget(userId: string): void {
    this.#people.delete(userId);
  }

  /** After a call with `partner` at `at`, as the lobby records it: newest last, at most `recentCount`. */
  met(p: Person, partner: string, at: number): void {
    p.recent.push({ userId: partner, at });
    if (p.recent.length > this.policy.recentCount) p.recent.splice(0, p.recent.length - this.policy.recentCount);
  }

  /**
   * A snapshot of the person as a ticket. Blocks and recent partners are copied: the pool must judge
   * the pair by what was true when the person joined, and so must the invariant checker.
   */
  ticket(p: Person, joinedAt: number): Ticket {
    return {
      userId: p.userId,
      mode: p.mode,
      language: p.language,
      region: p.region,
      interests: p.interests,
      joinedAt,
      blocked: new Set(p.blocked),
      recent: p.recent.map((x) => ({ ...x })),
    };
  }
}
