import type { MatchResult, TopInterest, WaitingPool } from './pool.js';
import { metRecently, stageOf, type MatchPolicy, type Ticket } from './rules.js';
import type { SearchLimits } from './search.js';
import {
  HELD,
  VERIFIED,
  VERIFIED_ONLY,
  MORE_TAGS,
  OVERFLOW,
  Interner,
  NEXT,
  SLOT,
  REGION,
  FLAGS,
  TAG,
  ID_BITS,
  MASK,
  MASK_WORDS,
  DATA,
  RECORD_DATA,
  INLINE_TAGS,
  INTS,
  NUMS,
  JOINED,
  NONE,
  PLACES,
  REGION_PLACE,
  List,
  Bucket,
  People,
  hashId,
  bitsOf,
  IdTable,
  addToMask,
  mayName,
  type Overflow,
} from './memoryIndex.js';
import { checkTicket, inOfferOrder } from './ticket.js';

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
 *  - People are kept by slot in typed arrays (`People`): no object or arrays per person, so the
 *    collector has little to trace or copy, and one id lookup finds everything about someone.
 *  - Blocks and recent partners are rare: each record carries a fingerprint of the person's id and
 *    of the names their ticket lists (memoryIndex.ts `bitsOf`), so a candidate is tested on the
 *    tickets only if one of the two may name the other. No index keyed by the names is kept.
 *  - No per-decision Set or generator: a decision allocates nothing but its answer. Looking at a
 *    candidate twice (one who shares two of the seeker's tags) gives the same verdict and ranks
 *    no higher than the first time, so, unlike search.ts, nothing remembers who was looked at.
 * `search` in search.ts stays the definition of the order; this follows it step for step (the same
 * pages, the same limits, the same partner) and memoryPool.test.ts holds the two together on
 * random sequences with small limits.
 */
export class MemoryPool implements WaitingPool {
  readonly #people = new People();
  /** The slot of everyone waiting, by id. */
  readonly #slotOf = new IdTable(this.#people.ids);
  /** By mode, then language (no key string is built per call). */
  readonly #buckets = new Map<string, Map<string, Bucket>>();
  /**
   * Interned tags and regions: a decision compares small numbers, not strings. A tag's count is
   * how often waiting people name it (what `topInterests` shows).
   */
  readonly #tags = new Interner();
  readonly #regions = new Interner();
  readonly #search: Seeker;
  readonly #scanLimit: number;

  constructor(
    readonly policy: MatchPolicy,
    /** At most this many candidates are looked at per scan, shared by its indexes (search.ts). */
    scanLimit = 256,
    pageSize = 32,
  ) {
    this.#scanLimit = scanLimit;
    this.#search = new Seeker(policy, { scanLimit, pageSize }, this.#people);
  }

  get size(): number {
    return this.#slotOf.size;
  }

  async has(userId: string): Promise<boolean> {
    return this.#slotOf.get(userId, hashId(userId)) !== NONE;
  }

  async get(userId: string): Promise<Ticket | undefined> {
    const slot = this.#slotOf.get(userId, hashId(userId));
    return slot === NONE ? undefined : this.#people.tickets[slot];
  }

  poolSize(mode: string, language: string): number {
    return this.#buckets.get(mode)?.get(language)?.everyone.size ?? 0;
  }

  async enqueue(ticket: Ticket): Promise<void> {
    checkTicket(ticket);
    const people = this.#people;
    const h = hashId(ticket.userId);
    const existing = this.#slotOf.find(ticket.userId, h);
    if (existing >= 0) {
      const joinedAt = people.tickets[existing]!.joinedAt;
      const bucket = people.buckets[existing]!;
      if (bucket.mode === ticket.mode && bucket.language === ticket.language) {
        this.#rejoin(existing, { ...ticket, joinedAt }, h);
        return;
      }
      this.#remove(existing);
      this.#join({ ...ticket, joinedAt }, h, this.#slotOf.find(ticket.userId, h));
      return;
    }
    this.#join(ticket, h, existing);
  }

  async remove(userId: string): Promise<boolean> {
    const slot = this.#slotOf.get(userId, hashId(userId));
    if (slot === NONE) return false;
    this.#remove(slot);
    return true;
  }

  async matchFor(userId: string, now: number): Promise<MatchResult> {
    const slot = this.#slotOf.get(userId, hashId(userId));
    if (slot === NONE) return undefined;
    const partner = this.#search.run(slot, now);
    if (partner === NONE) return undefined;
    const { tickets } = this.#people;
    const t = tickets[slot]!;
    const p = tickets[partner]!;
    this.#remove(slot);
    this.#remove(partner);
    return inOfferOrder(t, p);
  }

  topInterests(n: number): TopInterest[] {
    const all: TopInterest[] = [];
    const { names, counts } = this.#tags;
    for (let id = 1; id < names.length; id++) if (counts[id]! > 0) all.push({ tag: names[id]!, count: counts[id]! });
    return all.sort((x, y) => y.count - x.count || (x.tag < y.tag ? -1 : 1)).slice(0, n);
  }

  /** Always current. */
  async refresh(): Promise<void> {}

  /**
   * A person not waiting: a slot, a record in the bucket's everyone list and in each tag's list.
   * `h` is the hash of their id, `place` where the id table's `find` put them.
   */
  #join(t: Ticket, h: number, place: number): void {
    const people = this.#people;
    let byLanguage = this.#buckets.get(t.mode);
    if (!byLanguage) this.#buckets.set(t.mode, (byLanguage = new Map()));
    let bucket = byLanguage.get(t.language);
    if (!bucket) byLanguage.set(t.language, (bucket = new Bucket(t.mode, t.language, this.#scanLimit)));
    const slot = people.alloc();
    people.ids[slot] = t.userId;
    people.buckets[slot] = bucket;
    this.#describe(slot, t, h);
    people.places[slot * PLACES] = bucket.everyone.push(slot);
    const region = people.data[slot * DATA + REGION]!;
    if (region !== 0) people.places[slot * PLACES + REGION_PLACE] = this.#regionList(bucket, region).push(slot);
    for (let i = 0, k = people.tagCount[slot]!; i < k; i++) {
      const list = this.#tagList(bucket, people.tag(slot, i));
      people.setTagRecord(slot, i, list, list.push(slot));
    }
    this.#slotOf.add(place, h, slot);
    this.#write(slot);
  }

  /**
   * The same bucket again: the person keeps their place in line, in the bucket and in the index of
   * every interest they kept; an interest they added queues at that index's end.
   */
  #rejoin(slot: number, t: Ticket, h: number): void {
    const people = this.#people;
    const bucket = people.buckets[slot]!;
    const region = people.data[slot * DATA + REGION]!;
    const interests = people.interests(slot, []);
    const old: number[] = [];
    const oldPlaces: number[] = [];
    const oldLists: List[] = [];
    for (let i = 0, k = people.tagCount[slot]!; i < k; i++) {
      old.push(people.tag(slot, i));
      oldPlaces.push(people.place(slot, i));
      oldLists.push(people.list(slot, i));
    }
    // The new names are interned before the old are let go, so a kept tag keeps its number.
    this.#describe(slot, t, h);
    const newRegion = people.data[slot * DATA + REGION]!;
    if (newRegion !== region) {
      if (region !== 0) this.#unlinkRegion(bucket, region, people.places[slot * PLACES + REGION_PLACE]!);
      if (newRegion !== 0) {
        // Appended to the region's list: still in the everyone list's order only if nobody there is behind the person.
        const list = this.#regionList(bucket, newRegion);
        const everyone = bucket.everyone;
        if (list.tail !== NONE) {
          const last = list.ints[list.tail * INTS + SLOT]!;
          if (everyone.record(people.places[last * PLACES]!) > everyone.record(people.places[slot * PLACES]!)) list.ordered = false;
        }
        people.places[slot * PLACES + REGION_PLACE] = list.push(slot);
      }
    }
    const tags: number[] = [];
    for (let i = 0, k = people.tagCount[slot]!; i < k; i++) {
      const tag = people.tag(slot, i);
      tags.push(tag);
      const at = old.indexOf(tag);
      const list = at >= 0 ? oldLists[at]! : this.#tagList(bucket, tag);
      people.setTagRecord(slot, i, list, at >= 0 ? oldPlaces[at]! : list.push(slot));
    }
    for (let i = 0; i < old.length; i++) if (!tags.includes(old[i]!)) this.#unlinkTag(bucket, old[i]!, oldLists[i]!, oldPlaces[i]!);
    this.#write(slot);
    this.#release(region, interests);
  }

  /**
   * Sets what a decision reads of the person from their ticket, interning (and counting) its
   * names: region, flags, tags (inline, or in the overflow), the fingerprints of their id and of
   * the names they list.
   */
  #describe(slot: number, t: Ticket, h: number): void {
    const people = this.#people;
    const data = people.data;
    const at = slot * DATA;
    people.tickets[slot] = t;
    data[at + REGION] = t.region === undefined ? 0 : this.#regions.acquire(t.region);
    const k = t.interests.length;
    let n = 0;
    let overflow: Overflow | undefined;
    for (let i = 0; i < k; i++) {
      const tag = this.#tags.acquire(t.interests[i]!);
      if (overflow) {
        overflow.interests.push(tag);
        if (!overflow.tags.includes(tag)) overflow.tags.push(tag);
        continue;
      }
      let repeat = false;
      for (let j = 0; j < n; j++) if (data[at + TAG + j] === tag) repeat = true;
      if (!repeat && n < INLINE_TAGS) {
        data[at + TAG + n++] = tag;
        continue;
      }
      // A repeat, or one tag more than a record holds: the interests so far had no repeats.
      const first = Array.from(data.subarray(at + TAG, at + TAG + n));
      overflow = { interests: [...first, tag], tags: repeat ? first : [...first, tag], places: [], lists: [] };
    }
    // The record holds the first distinct tags (those after a repeat too).
    if (overflow) for (n = 0; n < INLINE_TAGS && n < overflow.tags.length; n++) data[at + TAG + n] = overflow.tags[n]!;
    for (let j = n; j < INLINE_TAGS; j++) data[at + TAG + j] = 0;
    let flags = (t.held ? HELD : 0) | (t.verified ? VERIFIED : 0) | (t.verifiedOnly ? VERIFIED_ONLY : 0);
    if (overflow) {
      flags |= OVERFLOW | (overflow.tags.length > INLINE_TAGS ? MORE_TAGS : 0);
      people.overflow.set(slot, overflow);
    } else if ((data[at + FLAGS]! & OVERFLOW) !== 0) people.overflow.delete(slot);
    data[at + FLAGS] = flags;
    people.interestCount[slot] = k;
    people.tagCount[slot] = overflow ? overflow.tags.length : n;
    data[at + ID_BITS] = bitsOf(h);
    for (let i = 0; i < MASK_WORDS; i++) data[at + MASK + i] = 0;
    for (const id of t.blocked) addToMask(data, at + MASK, bitsOf(hashId(id)));
    for (const r of t.recent) addToMask(data, at + MASK, bitsOf(hashId(r.userId)));
    this.#search.tags(this.#tags.names.length);
  }

  /** Lets go of the names `#describe` interned. */
  #release(region: number, interests: readonly number[]): void {
    if (region !== 0) this.#regions.release(region);
    for (const tag of interests) this.#tags.release(tag);
  }

  /** Copies what a decision reads of the person into each of their records. */
  #write(slot: number): void {
    const people = this.#people;
    const joinedAt = people.tickets[slot]!.joinedAt;
    const bucket = people.buckets[slot]!;
    bucket.everyone.write(people.places[slot * PLACES]!, people.data, slot * DATA, joinedAt);
    const region = people.data[slot * DATA + REGION]!;
    if (region !== 0) bucket.byRegion[region]!.write(people.places[slot * PLACES + REGION_PLACE]!, people.data, slot * DATA, joinedAt);
    for (let i = 0, k = people.tagCount[slot]!; i < k; i++)
      people.list(slot, i).write(people.place(slot, i), people.data, slot * DATA, joinedAt);
  }

  #remove(slot: number): void {
    const people = this.#people;
    this.#slotOf.delete(slot);
    const bucket = people.buckets[slot]!;
    bucket.everyone.unlink(people.places[slot * PLACES]!);
    const k = people.tagCount[slot]!;
    for (let i = 0; i < k; i++) this.#unlinkTag(bucket, people.tag(slot, i), people.list(slot, i), people.place(slot, i));
    if (bucket.everyone.size === 0) {
      const byLanguage = this.#buckets.get(bucket.mode)!;
      byLanguage.delete(bucket.language);
      if (byLanguage.size === 0) this.#buckets.delete(bucket.mode);
    }
    const at = slot * DATA;
    const region = people.data[at + REGION]!;
    if (region !== 0) {
      this.#unlinkRegion(bucket, region, people.places[slot * PLACES + REGION_PLACE]!);
      this.#regions.release(region);
    }
    if ((people.data[at + FLAGS]! & OVERFLOW) !== 0) {
      for (const tag of people.overflow.get(slot)!.interests) this.#tags.release(tag);
      people.overflow.delete(slot);
      people.data[at + FLAGS] = 0;
    } else for (let i = 0; i < k; i++) this.#tags.release(people.data[at + TAG + i]!);
    people.free(slot);
  }

  #tagList(bucket: Bucket, tag: number): List {
    let list = bucket.byTag[tag];
    if (!list) bucket.byTag[tag] = list = new List();
    return list;
  }

  #unlinkTag(bucket: Bucket, tag: number, list: List, place: number): void {
    list.unlink(place);
    // A small empty list is kept for the next person naming the tag (or the next tag given its number).
    if (list.size === 0 && list.capacity > KEPT_EMPTY) bucket.byTag[tag] = undefined;
  }

  #regionList(bucket: Bucket, region: number): List {
    let list = bucket.byRegion[region];
    if (!list) bucket.byRegion[region] = list = new List();
    return list;
  }

  #unlinkRegion(bucket: Bucket, region: number, place: number): void {
    const list = bucket.byRegion[region]!;
    list.unlink(place);
    if (list.size === 0 && list.capacity > KEPT_EMPTY) bucket.byRegion[region] = undefined;
  }
}

/** Lists of at most this many records are kept when they empty (tags come and go; a list costs a few allocations). */
const KEPT_EMPTY = 64;

// What a list record carries, from the record's start.
const R_REGION = RECORD_DATA + REGION;
const R_FLAGS = RECORD_DATA + FLAGS;
const R_TAG = RECORD_DATA + TAG;
const R_ID_BITS = RECORD_DATA + ID_BITS;
const R_MASK = RECORD_DATA + MASK;

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
  #slot = NONE;
  #t!: Ticket;
  #interests: number[] = [];
  #now = 0;
  #poolSize = 0;
  #k = 0;
  #region = 0;
  #held = false;
  #verified = false;
  #verifiedOnly = false;
  #regionRequired = false;
  #strictInterests = false;
  /** The fingerprint of the seeker's id, and of the names they list (in `#mask`, if any). */
  #idBits = 0;
  #names = false;
  readonly #mask = new Int32Array(MASK_WORDS);
  #recentAvoided: string[] = [];
  /** The best so far (rules.ts `rank`), by slot: NONE, or a person and what ranks them. */
  #best = NONE;
  #bestShared = 0;
  #bestSameRegion = 0;
  #bestJoinedAt = 0;

  constructor(
    readonly policy: MatchPolicy,
    readonly limits: SearchLimits,
    readonly people: People,
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

  /** The partner's slot, or NONE. */
  run(slot: number, now: number): number {
    const people = this.people;
    const t = people.tickets[slot]!;
    const data = people.data;
    const at = slot * DATA;
    const policy = this.policy;
    const stamp = ++this.#stamp;
    const bucket = people.buckets[slot]!;
    this.#slot = slot;
    this.#t = t;
    this.#now = now;
    this.#poolSize = bucket.everyone.size;
    const interests = people.interests(slot, this.#interests);
    this.#k = interests.length;
    const region = data[at + REGION]!;
    const flags = data[at + FLAGS]!;
    this.#region = region;
    this.#held = (flags & HELD) !== 0;
    this.#verified = (flags & VERIFIED) !== 0;
    this.#verifiedOnly = (flags & VERIFIED_ONLY) !== 0;
    const stage = stageOf(t, now, policy);
    this.#regionRequired = stage !== 'region' && region !== 0;
    this.#strictInterests = stage === 'strict' && interests.length > 0;
    // The partners t avoids now (rules.ts metRecently), unless the tiny-pool rule excuses them.
    this.#recentAvoided.length = 0;
    const relaxed = this.#poolSize <= policy.smallPool && now - t.joinedAt >= policy.relaxRecentAfterMs;
    if (!relaxed) for (const r of t.recent) if (metRecently(t, r.userId, now, policy)) this.#recentAvoided.push(r.userId);
    this.#idBits = data[at + ID_BITS]!;
    let names = 0;
    for (let i = 0; i < MASK_WORDS; i++) names |= this.#mask[i] = data[at + MASK + i]!;
    this.#names = names !== 0;
    for (const tag of interests) {
      if (this.#weightStamp[tag] !== stamp) {
        this.#weightStamp[tag] = stamp;
        this.#weight[tag] = 0;
      }
      this.#weight[tag] = this.#weight[tag]! + 1;
    }
    this.#best = NONE;

    const lists = this.#lists;
    const cursors = this.#cursors;
    if (this.#k > 0) {
      lists.length = cursors.length = 0;
      for (const tag of interests) {
        // The seeker is in every index of theirs.
        const list = bucket.byTag[tag]!;
        lists.push(list);
        cursors.push(list.head);
      }
      const found = this.#scan(stamp);
      if (found !== NONE) return found;
      if (this.#best !== NONE) return this.#best;
      if (stage === 'strict') return NONE;
    }
    // While the seeker requires their region, only people of that region can take them: read
    // those of the everyone list's first `scanLimit` positions from the region's list.
    const own = this.#regionRequired ? bucket.byRegion[region]! : undefined;
    if (own?.ordered) {
      const found = this.#scanRegion(own, bucket.everyone, stamp);
      return found !== NONE ? found : this.#best;
    }
    lists.length = cursors.length = 0;
    lists.push(bucket.everyone);
    cursors.push(bucket.everyone.head);
    const found = this.#scan(stamp);
    return found !== NONE ? found : this.#best;
  }

  /**
   * search.ts `scan` of everyone (one index: pages do not change the order) for a seeker who
   * requires their region: the same candidates less those of other regions, whom `#consider`
   * would reject, read from the region's list while within the everyone list's cut.
   */
  #scanRegion(list: List, everyone: List, stamp: number): number {
    const { ints, nums } = list;
    const cut = everyone.cut;
    const places = this.people.places;
    for (let r = list.head; r !== NONE; r = ints[r * INTS + NEXT]!) {
      if (cut !== NONE && everyone.record(places[ints[r * INTS + SLOT]! * PLACES]!) > cut) break;
      if (this.#consider(ints, nums, r, stamp)) return ints[r * INTS + SLOT]!;
    }
    return NONE;
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
    const slot = ints[at + SLOT]!;
    if (slot === this.#slot) return false;
    const flags = ints[at + R_FLAGS]!;
    if (((flags & HELD) !== 0) !== this.#held) return false;
    if (this.#verifiedOnly && (flags & VERIFIED) === 0) return false;
    if ((flags & VERIFIED_ONLY) !== 0 && !this.#verified) return false;
    const region = ints[at + R_REGION]!;
    if (this.#regionRequired && region !== this.#region) return false;
    // c's stage (rules.ts stageOf).
    const joinedAt = nums[r * NUMS + JOINED]!;
    const waited = this.#now - joinedAt;
    const cRegionDropped = waited >= policy.regionRequiredMs;
    if (!cRegionDropped && region !== 0 && region !== this.#region) return false;
    const hasTags = ints[at + R_TAG] !== 0;
    let shared = 0;
    if (this.#k > 0 && hasTags) {
      const w = this.#weight;
      const ws = this.#weightStamp;
      for (let i = at + R_TAG; i < at + R_TAG + INLINE_TAGS; i++) {
        const tag = ints[i]!;
        if (ws[tag] === stamp) shared += w[tag]!;
      }
      if ((flags & MORE_TAGS) !== 0) {
        const tags = this.people.overflow.get(slot)!.tags;
        for (let i = INLINE_TAGS; i < tags.length; i++) if (ws[tags[i]!] === stamp) shared += w[tags[i]!]!;
      }
    }
    if (shared === 0) {
      if (this.#strictInterests) return false;
      if (hasTags && !cRegionDropped && !(waited >= policy.interestsRequiredMs)) return false;
    }
    if (
      (mayName(ints, at + R_MASK, this.#idBits) || (this.#names && mayName(this.#mask, 0, ints[at + R_ID_BITS]!))) &&
      !this.#acceptsNamed(slot, waited)
    )
      return false;
    const sameRegion = this.#region !== 0 && region === this.#region ? 1 : 0;
    if (shared === this.#k && (this.#region === 0 || sameRegion === 1)) return true;
    if (
      this.#best === NONE ||
      shared > this.#bestShared ||
      (shared === this.#bestShared &&
        (sameRegion > this.#bestSameRegion || (sameRegion === this.#bestSameRegion && joinedAt < this.#bestJoinedAt)))
    ) {
      this.#best = slot;
      this.#bestShared = shared;
      this.#bestSameRegion = sameRegion;
      this.#bestJoinedAt = joinedAt;
    }
    return false;
  }

  /** The tests of `compatible` on blocks and recent partners, for a candidate whose fingerprints say one may name the other. */
  #acceptsNamed(slot: number, waited: number): boolean {
    const t = this.#t;
    const ct = this.people.tickets[slot]!;
    if (t.blocked.has(ct.userId) || ct.blocked.has(t.userId)) return false;
    if (this.#recentAvoided.includes(ct.userId)) return false;
    if (ct.recent.length !== 0 && metRecently(ct, t.userId, this.#now, this.policy)) {
      const relaxed = this.#poolSize <= this.policy.smallPool && waited >= this.policy.relaxRecentAfterMs;
      if (!relaxed) return false;
    }
    return true;
  }
}
