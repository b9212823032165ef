import type { Matchmaker } from './matchmaker.js';
import { compatible, pickPartner, sharedInterests, stageOf, type MatchPolicy, type Ticket } from './rules.js';

interface Bucket {
  /** Everyone waiting in this mode and language, oldest first (Map keeps insertion order). */
  order: Map<string, Ticket>;
  /** The same people indexed by interest tag. */
  readonly byTag: Map<string, Map<string, Ticket>>;
  /**
   * Deletions since the maps were last rebuilt: V8 keeps deleted slots until a rehash, and a Map
   * used as a queue (oldest out first) would otherwise make every scan walk over them.
   */
  holes: number;
}

const bucketKey = (mode: string, language: string) => `${mode}\u0000${language}`;

/**
 * The in-process pool: people bucketed by mode and language, indexed by interest, so finding a
 * partner looks at people sharing an interest first and then at the longest waiting, never at the
 * whole pool. Each look is bounded by `scanLimit` candidates per index.
 */
export class MemoryPool implements Matchmaker {
  readonly #tickets = new Map<string, Ticket>();
  readonly #buckets = new Map<string, Bucket>();
  readonly #tagCounts = new Map<string, number>();

  constructor(
    readonly policy: MatchPolicy,
    /** At most this many candidates are looked at per search, across all indexes. */
    readonly scanLimit = 256,
  ) {}

  get size(): number {
    return this.#tickets.size;
  }

  has(userId: string): boolean {
    return this.#tickets.has(userId);
  }

  get(userId: string): Ticket | undefined {
    return this.#tickets.get(userId);
  }

  poolSize(mode: string, language: string): number {
    return this.#buckets.get(bucketKey(mode, language))?.order.size ?? 0;
  }

  enqueue(ticket: Ticket): void {
    const existing = this.#tickets.get(ticket.userId);
    const t = existing ? { ...ticket, joinedAt: existing.joinedAt } : ticket;
    if (existing && bucketKey(existing.mode, existing.language) === bucketKey(t.mode, t.language)) {
      // Same bucket: Map.set on an existing key keeps the person's place in line.
      const bucket = this.#bucket(t);
      this.#untag(bucket, existing);
      bucket.order.set(t.userId, t);
      this.#tag(bucket, t);
    } else {
      if (existing) this.remove(existing.userId);
      const bucket = this.#bucket(t);
      bucket.order.set(t.userId, t);
      this.#tag(bucket, t);
    }
    this.#tickets.set(t.userId, t);
  }

  remove(userId: string): boolean {
    const t = this.#tickets.get(userId);
    if (!t) return false;
    this.#tickets.delete(userId);
    const key = bucketKey(t.mode, t.language);
    const bucket = this.#buckets.get(key)!;
    bucket.order.delete(userId);
    this.#untag(bucket, t);
    if (bucket.order.size === 0) {
      this.#buckets.delete(key);
    } else if (++bucket.holes > bucket.order.size + 1_024) {
      bucket.order = new Map(bucket.order);
      for (const [tag, set] of bucket.byTag) bucket.byTag.set(tag, new Map(set));
      bucket.holes = 0;
    }
    return true;
  }

  matchFor(userId: string, now: number): [Ticket, Ticket] | undefined {
    const t = this.#tickets.get(userId);
    if (!t) return undefined;
    const bucket = this.#buckets.get(bucketKey(t.mode, t.language))!;
    const poolSize = bucket.order.size;
    const partner = this.#search(t, bucket, now, poolSize);
    if (!partner) return undefined;
    this.remove(t.userId);
    this.remove(partner.userId);
    // The one who has waited longer comes first (and will make the offer).
    return partner.joinedAt <= t.joinedAt ? [partner, t] : [t, partner];
  }

  topInterests(n: number): Array<{ tag: string; count: number }> {
    return [...this.#tagCounts]
      .map(([tag, count]) => ({ tag, count }))
      .sort((x, y) => y.count - x.count || (x.tag < y.tag ? -1 : 1))
      .slice(0, n);
  }

  /**
   * The best partner within one budget of candidates. Candidates come oldest first and ranking is
   * shared interests, then region, then the longest wait, so the first compatible candidate who
   * shares all of t's interests (and t's region, if any) cannot be beaten: the search stops there.
   */
  #search(t: Ticket, bucket: Bucket, now: number, poolSize: number): Ticket | undefined {
    const unbeatable = (c: Ticket) => sharedInterests(t, c) === t.interests.length && (t.region === undefined || c.region === t.region);
    let budget = this.scanLimit;
    const seen: Ticket[] = [];
    const look = (candidates: Iterable<Ticket>): Ticket | undefined => {
      for (const c of candidates) {
        if (budget-- <= 0) return undefined;
        if (c.userId === t.userId || !compatible(t, c, now, this.policy, poolSize)) continue;
        if (unbeatable(c)) return c;
        seen.push(c);
      }
      return undefined;
    };
    // Someone sharing an interest outranks anyone who does not: the interest indexes first.
    for (const tag of t.interests) {
      const found = look(bucket.byTag.get(tag)?.values() ?? []);
      if (found) return found;
    }
    // While strict, a person with interests accepts nobody without one in common: no need to look further.
    const strict = t.interests.length > 0 && stageOf(t, now, this.policy) === 'strict';
    if (!strict && (seen.length === 0 || seen.every((c) => sharedInterests(t, c) === 0))) {
      const found = look(bucket.order.values());
      if (found) return found;
    }
    return pickPartner(t, seen, now, this.policy, poolSize);
  }

  #bucket(t: Ticket): Bucket {
    const key = bucketKey(t.mode, t.language);
    let bucket = this.#buckets.get(key);
    if (!bucket) this.#buckets.set(key, (bucket = { order: new Map(), byTag: new Map(), holes: 0 }));
    return bucket;
  }

  #tag(bucket: Bucket, t: Ticket): void {
    for (const tag of t.interests) {
      let set = bucket.byTag.get(tag);
      if (!set) bucket.byTag.set(tag, (set = new Map()));
      set.set(t.userId, t);
      this.#tagCounts.set(tag, (this.#tagCounts.get(tag) ?? 0) + 1);
    }
  }

  #untag(bucket: Bucket, t: Ticket): void {
    for (const tag of t.interests) {
      const set = bucket.byTag.get(tag);
      if (set?.delete(t.userId) && set.size === 0) bucket.byTag.delete(tag);
      const n = (this.#tagCounts.get(tag) ?? 1) - 1;
      if (n > 0) this.#tagCounts.set(tag, n);
      else this.#tagCounts.delete(tag);
    }
  }
}
