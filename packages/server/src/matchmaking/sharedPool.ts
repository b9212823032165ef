import type { Matchmaker } from './matchmaker.js';
import type { Ticket } from './rules.js';

/**
 * The pool as several nodes see it: every operation may cross the network, so all are async.
 * The Redis pool implements it; `asShared` adapts the in-process pool, so one contract test
 * suite runs against both.
 */
export interface SharedPool {
  enqueue(ticket: Ticket): Promise<void>;
  remove(userId: string): Promise<boolean>;
  has(userId: string): Promise<boolean>;
  get(userId: string): Promise<Ticket | undefined>;
  size(): Promise<number>;
  poolSize(mode: string, language: string): Promise<number>;
  matchFor(userId: string, now: number): Promise<[Ticket, Ticket] | undefined>;
  topInterests(n: number): Promise<Array<{ tag: string; count: number }>>;
}

export function asShared(pool: Matchmaker): SharedPool {
  return {
    enqueue: async (t) => pool.enqueue(t),
    remove: async (id) => pool.remove(id),
    has: async (id) => pool.has(id),
    get: async (id) => pool.get(id),
    size: async () => pool.size,
    poolSize: async (mode, language) => pool.poolSize(mode, language),
    matchFor: async (id, now) => pool.matchFor(id, now),
    topInterests: async (n) => pool.topInterests(n),
  };
}
