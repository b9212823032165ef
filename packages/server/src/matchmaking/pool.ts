import type { Ticket } from './rules.js';

export type { Ticket } from './rules.js';

/**
 * What one attempt to match a person gives: the pair (the one who waited longer first; both have
 * left the pool), `undefined` when nobody compatible waits, or 'retry' when a partner existed but
 * every claim was lost to another node (only a shared pool says that).
 */
export type MatchResult = [Ticket, Ticket] | undefined | 'retry';

export interface TopInterest {
  tag: string;
  count: number;
}

/**
 * The waiting pool, as the lobby uses it: one entry per person. `MemoryPool` (one node) and
 * `RedisPool` (several nodes) implement it, the same rules and search order in both (rules.ts,
 * search.ts), and pool.contract.test.ts holds both to it.
 *
 * Every change and every match is async for both. The in-process pool does its work inside the
 * call (the claim is made before the promise is returned, so two attempts never race) and answers
 * on the next microtask; the lobby has one code path for both, and already treats "someone left
 * while the claim was in flight" (`Lobby#claimed`), which a shared pool needs anyway.
 *
 * The counts shown to people are synchronous getters: always current in process, a snapshot as of
 * the last `refresh()` in Redis.
 */
export interface WaitingPool {
  /** Adds or replaces the person's entry. A replaced entry keeps its place and wait. */
  enqueue(ticket: Ticket): Promise<void>;
  /** True when the person was waiting. */
  remove(userId: string): Promise<boolean>;
  has(userId: string): Promise<boolean>;
  get(userId: string): Promise<Ticket | undefined>;
  /** Finds the best compatible partner for this waiting person now, and removes both from the pool. */
  matchFor(userId: string, now: number): Promise<MatchResult>;
  /** How many people wait. */
  readonly size: number;
  /** How many wait in this mode and language: the pool the person can be matched from. */
  poolSize(mode: string, language: string): number;
  /** The most common interests among people waiting, most common first, then by tag. */
  topInterests(n: number): TopInterest[];
  /** Brings the counts above up to date (a no-op where they always are). */
  refresh(): Promise<void>;
}
