import type { MatchResult, TopInterest, WaitingPool } from './pool.js';
import { metRecently, stageOf, type MatchPolicy, type Ticket } from './rules.js';
import type { SearchLimits } from './search.js';
import {
  keyOf,
  HELD,
  VERIFIED,
  VERIFIED_ONLY,
  MORE_TAGS,
  MARKED_BLOCKS,
  Interner,
  addTo,
  deleteFrom,
  Entry,
  NEXT,
  SLOT,
  REGION,
  FLAGS,
  TAG,
  INLINE_TAGS,
  INTS,
  JOINED,
  MARK,
  NUMS,
  NONE,
  NO_NUMBERS,
  List,
  Bucket,
} from './memoryIndex.js';
import { checkTicket, inOfferOrder } from './ticket.js';

const NOBODY: readonly Entry[] = Object.freeze([]);

/**
 * The in-process pool: people bucketed by mode and language, indexed by interest, searched in the
 * order of search.ts (people sharing an interest first, then the longest waiting) with the rules
 * of rules.ts, never the whole pool. Every method does its work before it returns; the promise
 * only carries the answer (see pool.ts for why the interface is async).
 *
 * Built for decisions at 100,000 waiting, where a decision may look at a thousand candidates and
 * each look must cost a few nanoseconds, not a few cache misses:
 *  - Each index (a bucket's everyone, each interest tag) is a doubly linked list, oldest first,
 *    kept in typed arrays (`List`): removal is O(1), a scan touches only people still waiting,
 *    and the records it walks lie next to each other in memory, in the list's order (the arrays
 *    are rebuilt in that order as they fill).
 *  - A record carries what the common tests read (the wait, interned region and tags, flags), so
 *    a candidate is judged from its record alone; the person behind it is read only when chosen.
 *  - Blocks and recent partners are rare: before a decision, the few people who block or avoid
 *    the seeker, or whom the seeker blocks or avoids, are marked (reverse indexes kept on join),
 *    and only marked candidates are tested on them.
 *  - No per-decision Set or generator: a decision allocates nothing but its answer. Looking at a
 *    candidate twice (one who shares two of the seeker's tags) gives the same verdict and ranks
 *    no higher than the first time, so, unlike search.ts, nothing remembers who was looked at.
 * `search` in search.ts stays the definition of the order; this follows it step for step (the same
 * pages, the same limits, the same partner) and memoryPool.test.ts holds the two together on
 * random sequences with small limits.
 */
export class MemoryPool implements WaitingPool {
  readonly #entries = new Map<string, Entry>();
  readonly #buckets = new Map<string, Bucket>();
  /**
   * Interned tags and regions: a decision compares small numbers, not strings. A tag's count is
   * how often waiting people name it (what `topInterests` shows).
   */
  readonly #tags = new Interner();
  readonly #regions = new Interner();
  /** Who has blocked a person, and who lists a person among their recent partners (by that person's id). */
  readonly #blockers = new Map<string, Entry[]>();
  readonly #listers = new Map<string, Entry[]>();
  /** Everyone waiting by slot number (what an index record points to), and the free slots. */
  readonly #slots: Array<Entry | undefined> = [];
  readonly #freeSlots: number[] = [];
  readonly #search: Seeker;

  constructor(
    readonly policy: MatchPolicy,
    /** At most this many candidates are looked at per scan, shared by its indexes (search.ts). */
    scanLimit = 256,
    pageSize = 32,
  ) {
    this.#search = new Seeker(policy, { scanLimit, pageSize }, this.#entries, this.#blockers, this.#listers, this.#slots);
  }

  get size(): number {
    return this.#entries.size;
  }

  async has(userId: string): Promise<boolean> {
    return this.#entries.has(userId);
  }

  async get(userId: string): Promise<Ticket | undefined> {
    return this.#entries.get(userId)?.ticket;
  }

  poolSize(mode: string, language: string): number {
    return this.#buckets.get(keyOf(mode, language))?.everyone.size ?? 0;
  }

  async enqueue(ticket: Ticket): Promise<void> {
    checkTicket(ticket);
    const existing = this.#entries.get(ticket.userId);
    if (existing && existing.bucket.key === keyOf(ticket.mode, ticket.language)) {
      // Same bucket: the person keeps their place in line, in the bucket and in the index of
      // every interest they kept; an interest they added queues at that index's end.
      const e = existing;
      this.#unpeople(e);
      // The new names are interned before the old are let go, so a kept tag keeps its number.
      const { region, interests, tags: old, tagPlaces: oldPlaces, tagLists: oldLists } = e;
      this.#describe(e, { ...ticket, joinedAt: e.ticket.joinedAt });
      const places: number[] = [];
      const lists: List[] = [];
      for (const tag of e.tags) {
        const at = old.indexOf(tag);
        const list = at >= 0 ? oldLists[at]! : this.#tagList(e.bucket, tag);
        places.push(at >= 0 ? oldPlaces[at]! : list.push(e));
        lists.push(list);
      }
      e.tagPlaces = places;
      e.tagLists = lists;
      for (let i = 0; i < old.length; i++) if (!e.tags.includes(old[i]!)) this.#unlinkTag(e.bucket, old[i]!, oldLists[i]!, oldPlaces[i]!);
      this.#learn(e);
      this.#release(region, interests);
      return;
    }
    const t = existing ? { ...ticket, joinedAt: existing.ticket.joinedAt } : ticket;
    if (existing) this.#remove(existing);
    const key = keyOf(t.mode, t.language);
    let bucket = this.#buckets.get(key);
    if (!bucket) this.#buckets.set(key, (bucket = new Bucket(key)));
    const slot = this.#freeSlots.pop() ?? this.#slots.length;
    const e = new Entry(t.userId, bucket, slot);
    this.#slots[slot] = e;
    this.#describe(e, t);
    e.place = bucket.everyone.push(e);
    const k = e.tags.length;
    if (k > 0) {
      const places: number[] = [];
      const lists: List[] = [];
      for (let i = 0; i < k; i++) {
        const list = this.#tagList(bucket, e.tags[i]!);
        places.push(list.push(e));
        lists.push(list);
      }
      e.tagPlaces = places;
      e.tagLists = lists;
    }
    this.#entries.set(t.userId, e);
    this.#learn(e);
  }

  async remove(userId: string): Promise<boolean> {
    const e = this.#entries.get(userId);
    if (!e) return false;
    this.#remove(e);
    return true;
  }

  async matchFor(userId: string, now: number): Promise<MatchResult> {
    const e = this.#entries.get(userId);
    if (!e) return undefined;
    const partner = this.#search.run(e, now);
    if (!partner) return undefined;
    this.#remove(e);
    this.#remove(partner);
    return inOfferOrder(e.ticket, partner.ticket);
  }

  topInterests(n: number): TopInterest[] {
    const all: TopInterest[] = [];
    const { names, counts } = this.#tags;
    for (let id = 1; id < names.length; id++) if (counts[id]! > 0) all.push({ tag: names[id]!, count: counts[id]! });
    return all.sort((x, y) => y.count - x.count || (x.tag < y.tag ? -1 : 1)).slice(0, n);
  }

  /** Always current. */
  async refresh(): Promise<void> {}

  /** Sets what a decision reads of the person from their ticket, interning (and counting) its names. */
  #describe(e: Entry, t: Ticket): void {
    e.ticket = t;
    e.region = t.region === undefined ? 0 : this.#regions.acquire(t.region);
    e.flags = (t.held ? HELD : 0) | (t.verified ? VERIFIED : 0) | (t.verifiedOnly ? VERIFIED_ONLY : 0);
    const k = t.interests.length;
    if (k === 0) {
      e.interests = e.tags = NO_NUMBERS;
    } else {
      const interests: number[] = [];
      let repeats = false;
      for (let i = 0; i < k; i++) {
        const tag = this.#tags.acquire(t.interests[i]!);
        if (!repeats && interests.includes(tag)) repeats = true;
        interests.push(tag);
      }
      e.interests = interests;
      e.tags = repeats ? interests.filter((tag, i) => interests.indexOf(tag) === i) : interests;
    }
    this.#search.tags(this.#tags.names.length);
  }

  /** Lets go of the names `#describe` interned. */
  #release(region: number, interests: readonly number[]): void {
    if (region !== 0) this.#regions.release(region);
    for (const tag of interests) this.#tags.release(tag);
  }

  /** Writes the entry into its records, and records it in the reverse indexes. */
  #learn(e: Entry): void {
    e.bucket.everyone.write(e.place, e);
    for (let i = 0; i < e.tags.length; i++) e.tagLists[i]!.write(e.tagPlaces[i]!, e);
    const t = e.ticket;
    e.listed = t.blocked.size !== 0 || t.recent.length !== 0;
    if (!e.listed) return;
    for (const id of t.blocked) addTo(this.#blockers, id, e);
    for (const r of t.recent) addTo(this.#listers, r.userId, e);
  }

  /** Takes the entry out of the reverse indexes. */
  #unpeople(e: Entry): void {
    if (!e.listed) return;
    const t = e.ticket;
    for (const id of t.blocked) deleteFrom(this.#blockers, id, e);
    for (const r of t.recent) deleteFrom(this.#listers, r.userId, e);
  }

  #remove(e: Entry): void {
    this.#unpeople(e);
    this.#entries.delete(e.id);
    const bucket = e.bucket;
    bucket.everyone.unlink(e.place);
    for (let i = 0; i < e.tags.length; i++) this.#unlinkTag(bucket, e.tags[i]!, e.tagLists[i]!, e.tagPlaces[i]!);
    if (bucket.everyone.size === 0) this.#buckets.delete(bucket.key);
    this.#release(e.region, e.interests);
    this.#slots[e.slot] = undefined;
    this.#freeSlots.push(e.slot);
  }

  #tagList(bucket: Bucket, tag: number): List {
    let list = bucket.byTag.get(tag);
    if (!list) bucket.byTag.set(tag, (list = new List()));
    return list;
  }

  #unlinkTag(bucket: Bucket, tag: number, list: List, place: number): void {
    list.unlink(place);
    if (list.size === 0) bucket.byTag.delete(tag);
  }
}

/**
 * search.ts's `search` for one seeker at a time, over the lists: the same pages (each index read
 * `pageSize` positions at a time, index after index, at most ⌈scanLimit / k⌉ positions of each of
 * k indexes), the same candidates rejected (rules.ts `compatible`), the same early end at the
 * first candidate who cannot be beaten and the same ranking (rules.ts `rank`). One per pool,
 * reused: the seeker's side of every rule is worked out once per decision.
 */
class Seeker {
  #stamp = 0;
  /** The seeker's interests as weights by tag number (valid where `#weightStamp` is this search's). */
  #weight = new Float64Array(64);
  #weightStamp = new Float64Array(64);
  /** The scan's position in each index it reads: the list, and the next record (NONE at the end). */
  readonly #lists: List[] = [];
  readonly #cursors: number[] = [];

  // The seeker, for the decision under way.
  #e!: Entry;
  #now = 0;
  #poolSize = 0;
  #k = 0;
  #region = 0;
  #held = false;
  #verified = false;
  #verifiedOnly = false;
  #regionRequired = false;
  #strictInterests = false;
  /** The seeker blocked too many to mark: every candidate is tested on blocks. */
  #testAll = false;
  #recentAvoided: string[] = [];
  /** The best so far (rules.ts `rank`), by slot: NONE, or a person and what ranks them. */
  #best = NONE;
  #bestShared = 0;
  #bestSameRegion = 0;
  #bestJoinedAt = 0;

  constructor(
    readonly policy: MatchPolicy,
    readonly limits: SearchLimits,
    readonly entries: ReadonlyMap<string, Entry>,
    readonly blockers: ReadonlyMap<string, readonly Entry[]>,
    readonly listers: ReadonlyMap<string, readonly Entry[]>,
    readonly slots: ReadonlyArray<Entry | undefined>,
  ) {}

  /** Makes room for tag numbers up to `n`. */
  tags(n: number): void {
    if (n < this.#weight.length) return;
    const size = Math.max(2 * this.#weight.length, n + 1);
    const weight = new Float64Array(size);
    const weightStamp = new Float64Array(size);
    weight.set(this.#weight);
    weightStamp.set(this.#weightStamp);
    this.#weight = weight;
    this.#weightStamp = weightStamp;
  }

  run(e: Entry, now: number): Entry | undefined {
    const t = e.ticket;
    const policy = this.policy;
    const stamp = ++this.#stamp;
    this.#e = e;
    this.#now = now;
    this.#poolSize = e.bucket.everyone.size;
    this.#k = e.interests.length;
    this.#region = e.region;
    this.#held = (e.flags & HELD) !== 0;
    this.#verified = (e.flags & VERIFIED) !== 0;
    this.#verifiedOnly = (e.flags & VERIFIED_ONLY) !== 0;
    const stage = stageOf(t, now, policy);
    this.#regionRequired = stage !== 'region' && e.region !== 0;
    this.#strictInterests = stage === 'strict' && e.interests.length > 0;
    // The partners t avoids now (rules.ts metRecently), unless the tiny-pool rule excuses them.
    this.#recentAvoided.length = 0;
    const relaxed = this.#poolSize <= policy.smallPool && now - t.joinedAt >= policy.relaxRecentAfterMs;
    if (!relaxed) for (const r of t.recent) if (metRecently(t, r.userId, now, policy)) this.#recentAvoided.push(r.userId);
    // Who must be tested on blocks and recent partners: the seeker, whoever blocks or lists them,
    // and whoever they block or list.
    e.mark(stamp);
    for (const x of this.blockers.get(t.userId) ?? NOBODY) x.mark(stamp);
    for (const x of this.listers.get(t.userId) ?? NOBODY) x.mark(stamp);
    this.#testAll = t.blocked.size > MARKED_BLOCKS;
    if (!this.#testAll) for (const id of t.blocked) this.entries.get(id)?.mark(stamp);
    for (const r of t.recent) this.entries.get(r.userId)?.mark(stamp);
    for (const tag of e.interests) {
      if (this.#weightStamp[tag] !== stamp) {
        this.#weightStamp[tag] = stamp;
        this.#weight[tag] = 0;
      }
      this.#weight[tag] = this.#weight[tag]! + 1;
    }
    this.#best = NONE;

    const bucket = e.bucket;
    const lists = this.#lists;
    const cursors = this.#cursors;
    if (this.#k > 0) {
      lists.length = cursors.length = 0;
      for (const tag of e.interests) {
        // The seeker is in every index of theirs.
        const list = bucket.byTag.get(tag)!;
        lists.push(list);
        cursors.push(list.head);
      }
      const found = this.#scan(stamp);
      if (found !== NONE) return this.slots[found];
      if (this.#best !== NONE) return this.slots[this.#best];
      if (stage === 'strict') return undefined;
    }
    lists.length = cursors.length = 0;
    lists.push(bucket.everyone);
    cursors.push(bucket.everyone.head);
    const found = this.#scan(stamp);
    if (found !== NONE) return this.slots[found];
    return this.#best === NONE ? undefined : this.slots[this.#best];
  }

  /** search.ts `scan`: the indexes in `#lists`, page by page. The unbeatable candidate's slot, if met. */
  #scan(stamp: number): number {
    const pageSize = this.limits.pageSize;
    const lists = this.#lists;
    const cursors = this.#cursors;
    const limit = Math.ceil(this.limits.scanLimit / lists.length);
    for (let start = 0; start < limit; start += pageSize) {
      const count = Math.min(pageSize, limit - start);
      let exhausted = true;
      for (let i = 0; i < lists.length; i++) {
        const { ints, nums } = lists[i]!;
        let r = cursors[i]!;
        let taken = 0;
        for (; taken < count && r !== NONE; taken++) {
          if (this.#consider(ints, nums, r, stamp)) return ints[r * INTS + SLOT]!;
          r = ints[r * INTS + NEXT]!;
        }
        cursors[i] = r;
        if (taken === count) exhausted = false;
      }
      if (exhausted) break;
    }
    return NONE;
  }

  /**
   * rules.ts `compatible(seeker, c)`, then search.ts's `unbeatable` (true: the search ends with c)
   * or `rank` against the best so far. Mode and language need no test: c is in the seeker's bucket.
   */
  #consider(ints: Int32Array, nums: Float64Array, r: number, stamp: number): boolean {
    const policy = this.policy;
    const at = r * INTS;
    const flags = ints[at + FLAGS]!;
    if (((flags & HELD) !== 0) !== this.#held) return false;
    if (this.#verifiedOnly && (flags & VERIFIED) === 0) return false;
    if ((flags & VERIFIED_ONLY) !== 0 && !this.#verified) return false;
    const region = ints[at + REGION]!;
    if (this.#regionRequired && region !== this.#region) return false;
    // c's stage (rules.ts stageOf).
    const joinedAt = nums[r * NUMS + JOINED]!;
    const waited = this.#now - joinedAt;
    const cRegionDropped = waited >= policy.regionRequiredMs;
    if (!cRegionDropped && region !== 0 && region !== this.#region) return false;
    const hasTags = ints[at + TAG] !== 0;
    let shared = 0;
    if (this.#k > 0 && hasTags) {
      const w = this.#weight;
      const ws = this.#weightStamp;
      for (let i = at + TAG; i < at + INTS; i++) {
        const tag = ints[i]!;
        if (ws[tag] === stamp) shared += w[tag]!;
      }
      if ((flags & MORE_TAGS) !== 0) {
        const tags = this.slots[ints[at + SLOT]!]!.tags;
        for (let i = INLINE_TAGS; i < tags.length; i++) if (ws[tags[i]!] === stamp) shared += w[tags[i]!]!;
      }
    }
    if (shared === 0) {
      if (this.#strictInterests) return false;
      if (hasTags && !cRegionDropped && !(waited >= policy.interestsRequiredMs)) return false;
    }
    if ((nums[r * NUMS + MARK] === stamp || this.#testAll) && !this.#acceptsMarked(this.slots[ints[at + SLOT]!]!, waited)) return false;
    const sameRegion = this.#region !== 0 && region === this.#region ? 1 : 0;
    if (shared === this.#k && (this.#region === 0 || sameRegion === 1)) return true;
    if (
      this.#best === NONE ||
      shared > this.#bestShared ||
      (shared === this.#bestShared &&
        (sameRegion > this.#bestSameRegion || (sameRegion === this.#bestSameRegion && joinedAt < this.#bestJoinedAt)))
    ) {
      this.#best = ints[at + SLOT]!;
      this.#bestShared = shared;
      this.#bestSameRegion = sameRegion;
      this.#bestJoinedAt = joinedAt;
    }
    return false;
  }

  /** The tests of `compatible` only marked candidates can fail: the seeker themself, blocks, recent partners. */
  #acceptsMarked(c: Entry, waited: number): boolean {
    if (c === this.#e) return false;
    const t = this.#e.ticket;
    const ct = c.ticket;
    if (t.blocked.has(ct.userId) || ct.blocked.has(t.userId)) return false;
    if (this.#recentAvoided.includes(ct.userId)) return false;
    if (ct.recent.length !== 0 && metRecently(ct, t.userId, this.#now, this.policy)) {
      const relaxed = this.#poolSize <= this.policy.smallPool && waited >= this.policy.relaxRecentAfterMs;
      if (!relaxed) return false;
    }
    return true;
  }
}
