import { compatible, rank, sharedInterests, stageOf, type MatchPolicy, type Ticket } from './rules.js';

/**
 * The search order, defined once for both pools: which candidates are looked at, in what order,
 * and when to stop. It is a generator that asks for pages of candidates and never does I/O. Both
 * pools follow it step for step rather than run it, each where its data is: the in-process pool
 * in one loop over its lists (memoryPool.ts; memoryPool.test.ts holds it to this generator, run
 * by `searchNow` over plain maps, on random sequences with small limits), the Redis pool in its
 * MATCH script (redisPool.ts; pool.contract.test.ts requires both pools to choose the same partner).
 */

/** An index of the person's bucket (mode and language): those with one interest tag, or everyone. */
export type Index = { readonly tag: string } | 'everyone';

/** Positions [start, start + count) of each index, every index oldest first. */
export interface PageRequest {
  readonly indexes: readonly Index[];
  readonly start: number;
  readonly count: number;
}

export interface Page {
  /** The people on those positions, index by index (they may repeat, and include the seeker). */
  readonly candidates: readonly Ticket[];
  /** Every index ended before `start + count`: there is no next page. */
  readonly exhausted: boolean;
}

export interface SearchLimits {
  /** Candidates read per page and index. */
  readonly pageSize: number;
  /**
   * Positions read at most per scan, shared by the indexes it reads: of k indexes read together,
   * at most ⌈scanLimit / k⌉ positions each. A search never reads the whole pool, and a person with
   * five interests costs about what a person with one does.
   */
  readonly scanLimit: number;
}

export type Search = Generator<PageRequest, Ticket | undefined, Page>;

/**
 * The best partner for `t` within the limits. `poolSize` is how many wait in t's mode and
 * language (the tiny-pool rule needs it). Ranking is shared interests, then region, then the
 * longest wait (rules.ts `rank`):
 *  1. Someone sharing an interest outranks anyone who does not: t's interest indexes come first,
 *     read together page by page, the oldest ⌈scanLimit / k⌉ of each of t's k interests. If anyone
 *     compatible is there, the best of them is the answer.
 *  2. While strict, a person with interests accepts nobody without one in common: stop there.
 *  3. Otherwise everyone in the bucket, oldest first.
 * Candidates come oldest first, so the first compatible one sharing all of t's interests (and
 * t's region, if any) cannot be beaten: the search ends there.
 */
export function* search(t: Ticket, now: number, policy: MatchPolicy, poolSize: number, limits: SearchLimits): Search {
  const unbeatable = (c: Ticket) => sharedInterests(t, c) === t.interests.length && (t.region === undefined || c.region === t.region);
  const considered = new Set<string>([t.userId]);
  let best: Ticket | undefined;

  function* scan(indexes: readonly Index[]): Generator<PageRequest, Ticket | undefined, Page> {
    const limit = Math.ceil(limits.scanLimit / indexes.length);
    for (let start = 0; start < limit; start += limits.pageSize) {
      const page = yield { indexes, start, count: Math.min(limits.pageSize, limit - start) };
      for (const c of page.candidates) {
        if (considered.has(c.userId)) continue;
        considered.add(c.userId);
        if (!compatible(t, c, now, policy, poolSize)) continue;
        if (unbeatable(c)) return c;
        if (!best || rank(t, c, best) < 0) best = c;
      }
      if (page.exhausted) break;
    }
    return undefined;
  }

  if (t.interests.length > 0) {
    const found = (yield* scan(t.interests.map((tag) => ({ tag })))) ?? best;
    if (found) return found;
    if (stageOf(t, now, policy) === 'strict') return undefined;
  }
  return (yield* scan(['everyone'])) ?? best;
}

/** Runs a search against pages read at once. */
export function searchNow(s: Search, read: (request: PageRequest) => Page): Ticket | undefined {
  let step = s.next();
  while (!step.done) step = s.next(read(step.value));
  return step.value;
}
