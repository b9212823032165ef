export interface QueueEntry {
  readonly userId: string;
  readonly interests: readonly string[];
  readonly joinedAt: number;
}

/** Whether two waiting people may be put together (blocks, the partner just left, ...). */
export type PairPredicate = (a: QueueEntry, b: QueueEntry) => boolean;

/**
 * The waiting pool. The skeleton's FIFO queue implements it; the matchmaking engine
 * (interests, widening, several nodes) will implement the same interface.
 */
export interface Matchmaker {
  /** Adds or replaces the person's entry: one entry per person, ever. */
  enqueue(entry: QueueEntry): void;
  remove(userId: string): boolean;
  has(userId: string): boolean;
  readonly size: number;
  /** Removes and returns every pair that can be matched now, longest-waiting first. */
  takePairs(canPair: PairPredicate): Array<[QueueEntry, QueueEntry]>;
}
