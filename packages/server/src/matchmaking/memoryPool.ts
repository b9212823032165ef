import type { MatchResult, TopInterest, WaitingPool } from './pool.js';
import { metRecently, stageOf, type MatchPolicy, type Ticket } from './rules.js';
import type { SearchLimits } from './search.js';
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
    /** At most this many candidates are looked at per index and search. */
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
      e.tagPlaces = [];
      e.tagLists = [];
      for (const tag of e.tags) {
        const at = old.indexOf(tag);
        const list = at >= 0 ? oldLists[at]! : this.#tagList(e.bucket, tag);
        e.tagPlaces.push(at >= 0 ? oldPlaces[at]! : list.push(e));
        e.tagLists.push(list);
      }
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
    const e = new Entry(bucket, slot);
    this.#slots[slot] = e;
    this.#describe(e, t);
    e.place = bucket.everyone.push(e);
    for (const tag of e.tags) {
      const list = this.#tagList(bucket, tag);
      e.tagPlaces.push(list.push(e));
      e.tagLists.push(list);
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
    e.interests = t.interests.map((tag) => this.#tags.acquire(tag));
    e.tags = e.interests.filter((tag, i) => e.interests.indexOf(tag) === i);
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
    this.#entries.delete(e.ticket.userId);
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
 * A bucket's key: one mode and language, unambiguous whatever the strings hold (so people in one
 * bucket share both, and a decision need not compare them).
 */
const keyOf = (mode: string, language: string): string => `${mode.length}:${mode}:${language}`;

const HELD = 1;
const VERIFIED = 2;
const VERIFIED_ONLY = 4;
/** In a record's flags: the person has more tags than the record holds (read from the entry). */
const MORE_TAGS = 8;
/** Above this many blocks, a seeker's are tested on every candidate instead of marked. */
const MARKED_BLOCKS = 64;

/**
 * Small numbers for strings, from 1 (0 means none), counted: a number is given back when nobody
 * waiting names the string any more (people type their own tags; the table must not only grow).
 */
class Interner {
  readonly #ids = new Map<string, number>();
  readonly #free: number[] = [];
  /** By number: the string, and how often it is named now. */
  readonly names: Array<string | undefined> = [undefined];
  readonly counts: number[] = [0];

  acquire(s: string): number {
    let id = this.#ids.get(s);
    if (id === undefined) {
      id = this.#free.pop() ?? this.names.length;
      this.#ids.set(s, id);
      this.names[id] = s;
      this.counts[id] = 0;
    }
    this.counts[id]! += 1;
    return id;
  }

  release(id: number): void {
    if ((this.counts[id]! -= 1) > 0) return;
    this.#ids.delete(this.names[id]!);
    this.names[id] = undefined;
    this.#free.push(id);
  }
}

/** Adds e under id (once: a ticket may name someone twice). The lists are short: a few per person. */
function addTo(index: Map<string, Entry[]>, id: string, e: Entry): void {
  const list = index.get(id);
  if (!list) index.set(id, [e]);
  else if (!list.includes(e)) list.push(e);
}

function deleteFrom(index: Map<string, Entry[]>, id: string, e: Entry): void {
  const list = index.get(id);
  const at = list ? list.indexOf(e) : -1;
  if (at < 0) return;
  if (list!.length === 1) index.delete(id);
  else list!.splice(at, 1);
}

/** A waiting person: their ticket, interned, and their places in the bucket's lists. */
class Entry {
  ticket!: Ticket;
  /** Interned region, 0 for none. */
  region = 0;
  /** HELD | VERIFIED | VERIFIED_ONLY. */
  flags = 0;
  /** The ticket names people (blocks or recent partners): the entry is in the reverse indexes. */
  listed = false;
  /** Interned interests as the ticket lists them, and the same without repeats (one index record each). */
  interests: number[] = [];
  tags: number[] = [];
  /** The person's handle in the bucket's everyone list, and in the list of `tags[i]` (`tagLists[i]`). */
  place = -1;
  tagPlaces: number[] = [];
  tagLists: List[] = [];

  constructor(
    readonly bucket: Bucket,
    readonly slot: number,
  ) {}

  /** Marks every record of the person for the search `stamp`. */
  mark(stamp: number): void {
    this.bucket.everyone.mark(this.place, stamp);
    for (let i = 0; i < this.tagLists.length; i++) this.tagLists[i]!.mark(this.tagPlaces[i]!, stamp);
  }
}

// A list record: in `ints`, INTS numbers from record * INTS; in `nums`, NUMS from record * NUMS.
const NEXT = 0;
const PREV = 1;
const SLOT = 2;
/** The handle the person knows the record by (records move, handles do not). */
const HANDLE = 3;
const REGION = 4;
const FLAGS = 5;
/** Tags held in the record: TAG .. TAG + INLINE_TAGS - 1 (0 where none). */
const TAG = 6;
const INLINE_TAGS = 5;
const INTS = TAG + INLINE_TAGS;
const JOINED = 0;
/** The search for which this person must be tested on blocks and recent partners (or is the seeker). */
const MARK = 1;
const NUMS = 2;
const NONE = -1;

/**
 * One index, oldest first: a doubly linked list of records in typed arrays. Records are appended
 * at the list's tail and the arrays' end, so list order is array order; an unlinked record is
 * skipped by the links (no holes to walk) and its room is taken back when the arrays fill: the
 * live records are then moved up in place (or into arrays twice the live size, when more than half
 * are live), so the records a scan walks lie side by side. O(1) amortized per push. People hold a
 * handle to their record, which a move keeps pointing at it.
 */
class List {
  ints = new Int32Array(8 * INTS);
  nums = new Float64Array(8 * NUMS);
  /** Records written so far (live or unlinked). */
  used = 0;
  head = NONE;
  tail = NONE;
  size = 0;
  /** Handle -> record, and the handles free for reuse. */
  #recordOf = new Int32Array(8);
  readonly #freeHandles: number[] = [];
  #handles = 0;

  /** Appends the person (their data is written by `write`); the record's handle. */
  push(e: Entry): number {
    if (this.used * INTS === this.ints.length) this.#rebuild();
    let h = this.#freeHandles.pop();
    if (h === undefined) {
      h = this.#handles++;
      if (h === this.#recordOf.length) {
        const bigger = new Int32Array(2 * h);
        bigger.set(this.#recordOf);
        this.#recordOf = bigger;
      }
    }
    const r = this.used++;
    this.#recordOf[h] = r;
    const ints = this.ints;
    ints[r * INTS + SLOT] = e.slot;
    ints[r * INTS + HANDLE] = h;
    ints[r * INTS + NEXT] = NONE;
    ints[r * INTS + PREV] = this.tail;
    if (this.tail !== NONE) ints[this.tail * INTS + NEXT] = r;
    else this.head = r;
    this.tail = r;
    this.size += 1;
    return h;
  }

  /** Copies what a decision reads of the person into their record. */
  write(h: number, e: Entry): void {
    const r = this.#recordOf[h]!;
    const ints = this.ints;
    const at = r * INTS;
    ints[at + REGION] = e.region;
    ints[at + FLAGS] = e.flags | (e.tags.length > INLINE_TAGS ? MORE_TAGS : 0);
    for (let i = 0; i < INLINE_TAGS; i++) ints[at + TAG + i] = e.tags[i] ?? 0;
    this.nums[r * NUMS + JOINED] = e.ticket.joinedAt;
    this.nums[r * NUMS + MARK] = 0;
  }

  mark(h: number, stamp: number): void {
    this.nums[this.#recordOf[h]! * NUMS + MARK] = stamp;
  }

  unlink(h: number): void {
    const r = this.#recordOf[h]!;
    this.#freeHandles.push(h);
    const ints = this.ints;
    const next = ints[r * INTS + NEXT]!;
    const prev = ints[r * INTS + PREV]!;
    if (prev !== NONE) ints[prev * INTS + NEXT] = next;
    else this.head = next;
    if (next !== NONE) ints[next * INTS + PREV] = prev;
    else this.tail = prev;
    this.size -= 1;
  }

  #rebuild(): void {
    // In place when at most half are live: record r moves to n <= r, walking in list (= array) order.
    const grow = 2 * this.size > this.used;
    const ints = grow ? new Int32Array(2 * this.size * INTS) : this.ints;
    const nums = grow ? new Float64Array(2 * this.size * NUMS) : this.nums;
    const from = this.ints;
    const fromNums = this.nums;
    const recordOf = this.#recordOf;
    let n = 0;
    for (let r = this.head; r !== NONE; n++) {
      const next = from[r * INTS + NEXT]!;
      for (let i = 0; i < INTS; i++) ints[n * INTS + i] = from[r * INTS + i]!;
      ints[n * INTS + PREV] = n - 1;
      ints[n * INTS + NEXT] = n + 1;
      nums[n * NUMS + JOINED] = fromNums[r * NUMS + JOINED]!;
      nums[n * NUMS + MARK] = fromNums[r * NUMS + MARK]!;
      recordOf[ints[n * INTS + HANDLE]!] = n;
      r = next;
    }
    if (n > 0) ints[(n - 1) * INTS + NEXT] = NONE;
    this.ints = ints;
    this.nums = nums;
    this.used = n;
    this.head = n > 0 ? 0 : NONE;
    this.tail = n - 1;
  }
}

/** Everyone waiting in one mode and language, and the same people by interest. */
class Bucket {
  readonly everyone = new List();
  readonly byTag = new Map<number, List>();
  constructor(readonly key: string) {}
}

/**
 * search.ts's `search` for one seeker at a time, over the lists: the same pages (each index read
 * `pageSize` positions at a time, index after index, at most `scanLimit` positions each), the same
 * candidates rejected (rules.ts `compatible`), the same early end at the first candidate who
 * cannot be beaten and the same ranking (rules.ts `rank`). One per pool, reused: the seeker's side
 * of every rule is worked out once per decision.
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
    for (const x of this.blockers.get(t.userId) ?? []) x.mark(stamp);
    for (const x of this.listers.get(t.userId) ?? []) x.mark(stamp);
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
    const { pageSize, scanLimit } = this.limits;
    const lists = this.#lists;
    const cursors = this.#cursors;
    for (let start = 0; start < scanLimit; start += pageSize) {
      const count = Math.min(pageSize, scanLimit - start);
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
