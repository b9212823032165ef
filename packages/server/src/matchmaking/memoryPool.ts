import type { Matchmaker } from './matchmaker.js';
import { pickPartner, type MatchPolicy, type Ticket } from './rules.js';

interface Bucket {
  /** Everyone waiting in this mode and language, oldest first (Map keeps insertion order). */
  readonly order: Map<string, Ticket>;
  /** The same people indexed by interest tag. */
  readonly byTag: Map<string, Map<string, Ticket>>;
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
    readonly scanLimit = 512,
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
    if (bucket.order.size === 0) this.#buckets.delete(key);
    return true;
  }

  matchFor(userId: string, now: number): [Ticket, Ticket] | undefined {
    const t = this.#tickets.get(userId);
    if (!t) return undefined;
    const bucket = this.#buckets.get(bucketKey(t.mode, t.language))!;
    const poolSize = bucket.order.size;
    // Someone sharing an interest always outranks someone who does not, so look there first.
    let partner = t.interests.length > 0 ? pickPartner(t, this.#byInterest(bucket, t), now, this.policy, poolSize) : undefined;
    partner ??= pickPartner(t, take(bucket.order.values(), this.scanLimit), now, this.policy, poolSize);
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

  *#byInterest(bucket: Bucket, t: Ticket): Generator<Ticket> {
    for (const tag of t.interests) yield* take(bucket.byTag.get(tag)?.values() ?? [], this.scanLimit);
  }

  #bucket(t: Ticket): Bucket {
    const key = bucketKey(t.mode, t.language);
    let bucket = this.#buckets.get(key);
    if (!bucket) this.#buckets.set(key, (bucket = { order: new Map(), byTag: new Map() }));
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

function* take<T>(items: Iterable<T>, limit: number): Generator<T> {
  let n = 0;
  for (const item of items) {
    if (n++ >= limit) return;
    yield item;
  }
}
