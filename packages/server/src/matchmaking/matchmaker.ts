import type { Ticket } from './rules.js';

export type { Ticket } from './rules.js';

/**
 * The waiting pool. One entry per person; `matchFor` finds a partner for one person and removes
 * both, or changes nothing. The in-process pool implements it; the Redis pool implements the same
 * rules for several nodes (see redisPool.ts).
 */
export interface Matchmaker {
  /** Adds or replaces the person's entry. A replaced entry keeps its place and wait. */
  enqueue(ticket: Ticket): void;
  remove(userId: string): boolean;
  has(userId: string): boolean;
  get(userId: string): Ticket | undefined;
  readonly size: number;
  /** Finds the best compatible partner for this waiting person now, and removes both from the pool. */
  matchFor(userId: string, now: number): [Ticket, Ticket] | undefined;
  /** How many wait in this mode and language: the pool the person can be matched from. */
  poolSize(mode: string, language: string): number;
  /** The most common interests among people waiting. */
  topInterests(n: number): Array<{ tag: string; count: number }>;
}

/**
 * The pool as the lobby uses it: the in-process pool answers at once; a shared pool (Redis) answers
 * with promises, and its counts are a recent snapshot.
 */
export interface LobbyPool {
  enqueue(ticket: Ticket): void | Promise<void>;
  remove(userId: string): boolean | Promise<boolean>;
  /** 'retry': every claim was lost to another node; try again shortly. */
  matchFor(userId: string, now: number): [Ticket, Ticket] | undefined | Promise<[Ticket, Ticket] | undefined | 'retry'>;
  readonly size: number;
  poolSize(mode: string, language: string): number;
  topInterests(n: number): Array<{ tag: string; count: number }>;
}
