import type { Matchmaker, PairPredicate, QueueEntry } from './matchmaker.js';

/**
 * First in, first out: the longest-waiting person is paired with the longest-waiting person they
 * may be paired with. Entries are kept in a Map, whose iteration order is insertion order.
 */
export class FifoQueue implements Matchmaker {
  readonly #entries = new Map<string, QueueEntry>();

  enqueue(entry: QueueEntry): void {
    // Re-joining moves nobody forward or back: an existing entry keeps its place and wait time
    // and takes the new criteria.
    const existing = this.#entries.get(entry.userId);
    this.#entries.set(entry.userId, existing ? { ...entry, joinedAt: existing.joinedAt } : entry);
  }

  remove(userId: string): boolean {
    return this.#entries.delete(userId);
  }

  has(userId: string): boolean {
    return this.#entries.has(userId);
  }

  get size(): number {
    return this.#entries.size;
  }

  takePairs(canPair: PairPredicate): Array<[QueueEntry, QueueEntry]> {
    const pairs: Array<[QueueEntry, QueueEntry]> = [];
    const waiting = [...this.#entries.values()];
    const taken = new Set<string>();
    for (let i = 0; i < waiting.length; i++) {
      const a = waiting[i]!;
      if (taken.has(a.userId)) continue;
      for (let j = i + 1; j < waiting.length; j++) {
        const b = waiting[j]!;
        if (taken.has(b.userId) || !canPair(a, b)) continue;
        taken.add(a.userId).add(b.userId);
        this.#entries.delete(a.userId);
        this.#entries.delete(b.userId);
        pairs.push([a, b]);
        break;
      }
    }
    return pairs;
  }
}
