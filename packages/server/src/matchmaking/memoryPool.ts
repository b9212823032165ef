import type { MatchResult, TopInterest, WaitingPool } from './pool.js';
import type { MatchPolicy, Ticket } from './rules.js';
import { search, searchNow, type Index, type Page, type PageRequest, type SearchLimits } from './search.js';
import { bucketKey, checkTicket, inOfferOrder } from './ticket.js';

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

/**
 * The in-process pool: people bucketed by mode and language, indexed by interest, searched in the
 * order search.ts gives (people sharing an interest first, then the longest waiting), never the
 * whole pool. Every method does its work before it returns; the promise only carries the answer
 * (see pool.ts for why the interface is async).
 */
export class MemoryPool implements WaitingPool {
  readonly #tickets = new Map<string, Ticket>();
  readonly #buckets = new Map<string, Bucket>();
  readonly #tagCounts = new Map<string, number>();

  readonly #limits: SearchLimits;

  constructor(
    readonly policy: MatchPolicy,
    /** At most this many candidates are looked at per index and search. */
    scanLimit = 256,
    pageSize = 32,
  ) {
    this.#limits = { scanLimit, pageSize };
  }

  get size(): number {
    return this.#tickets.size;
  }

  async has(userId: string): Promise<boolean> {
    return this.#tickets.has(userId);
  }

  async get(userId: string): Promise<Ticket | undefined> {
    return this.#tickets.get(userId);
  }

  poolSize(mode: string, language: string): number {
    return this.#buckets.get(bucketKey(mode, language))?.order.size ?? 0;
  }

  async enqueue(ticket: Ticket): Promise<void> {
    checkTicket(ticket);
    const existing = this.#tickets.get(ticket.userId);
    const t = existing ? { ...ticket, joinedAt: existing.joinedAt } : ticket;
    if (existing && bucketKey(existing.mode, existing.language) === bucketKey(t.mode, t.language)) {
      // Same bucket: Map.set on an existing key keeps the person's place in line, in the bucket
      // and in the index of every interest they kept.
      const bucket = this.#bucket(t);
      this.#untag(bucket, existing, t.interests);
      bucket.order.set(t.userId, t);
      this.#tag(bucket, t);
    } else {
      if (existing) this.#remove(existing.userId);
      const bucket = this.#bucket(t);
      bucket.order.set(t.userId, t);
      this.#tag(bucket, t);
    }
    this.#tickets.set(t.userId, t);
  }

  async remove(userId: string): Promise<boolean> {
    return this.#remove(userId);
  }

  async matchFor(userId: string, now: number): Promise<MatchResult> {
    const t = this.#tickets.get(userId);
    if (!t) return undefined;
    const bucket = this.#buckets.get(bucketKey(t.mode, t.language))!;
    const partner = searchNow(search(t, now, this.policy, bucket.order.size, this.#limits), pages(bucket));
    if (!partner) return undefined;
    this.#remove(t.userId);
    this.#remove(partner.userId);
    return inOfferOrder(t, partner);
  }

  topInterests(n: number): TopInterest[] {
    return [...this.#tagCounts]
      .map(([tag, count]) => ({ tag, count }))
      .sort((x, y) => y.count - x.count || (x.tag < y.tag ? -1 : 1))
      .slice(0, n);
  }

  /** Always current. */
  async refresh(): Promise<void> {}

  #remove(userId: string): boolean {
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

  /** Takes `t` out of its interest indexes (but those in `keep`, which `#tag` updates in place) and the counts. */
  #untag(bucket: Bucket, t: Ticket, keep: readonly string[] = []): void {
    for (const tag of t.interests) {
      const set = bucket.byTag.get(tag);
      if (!keep.includes(tag) && set?.delete(t.userId) && set.size === 0) bucket.byTag.delete(tag);
      const n = (this.#tagCounts.get(tag) ?? 1) - 1;
      if (n > 0) this.#tagCounts.set(tag, n);
      else this.#tagCounts.delete(tag);
    }
  }
}

/**
 * Serves a search's page requests from a bucket's maps. Pages are asked for in order, so each
 * index keeps one iterator for the whole search (no walking from the front for every page).
 */
function pages(bucket: Bucket): (request: PageRequest) => Page {
  const open = new Map<Index, Iterator<Ticket>>();
  const iterator = (index: Index) => {
    let it = open.get(index);
    if (!it)
      open.set(index, (it = (index === 'everyone' ? bucket.order : (bucket.byTag.get(index.tag) ?? new Map<string, Ticket>())).values()));
    return it;
  };
  return ({ indexes, count }) => {
    const candidates: Ticket[] = [];
    let exhausted = true;
    for (const index of indexes) {
      const it = iterator(index);
      let taken = 0;
      for (; taken < count; taken++) {
        const next = it.next();
        if (next.done) break;
        candidates.push(next.value);
      }
      if (taken === count) exhausted = false;
    }
    return { candidates, exhausted };
  };
}
