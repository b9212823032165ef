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
 *  - Each index (a bucket's everyone, each interest tag) is an intrusive doubly linked list, oldest
 *    first: removal is O(1) and a scan touches only people still waiting.
 *  - A list node carries what the common tests read (the wait, interned region and tags, flags),
 *    so a candidate is judged from its node alone.
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
  readonly #tagCounts = new Map<string, number>();
  /** Interned tags and regions: a decision compares small numbers, not strings. */
  readonly #tagIds = new Map<string, number>();
  readonly #regionIds = new Map<string, number>();
  /** Who has blocked a person, and who lists a person among their recent partners (by that person's id). */
  readonly #blockers = new Map<string, Set<Entry>>();
  readonly #listers = new Map<string, Set<Entry>>();
  readonly #search: Seeker;

  constructor(
    readonly policy: MatchPolicy,
    /** At most this many candidates are looked at per index and search. */
    scanLimit = 256,
    pageSize = 32,
  ) {
    this.#search = new Seeker(policy, { scanLimit, pageSize }, this.#entries, this.#blockers, this.#listers);
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
      this.#forget(e);
      const old = e.tags;
      const oldNodes = e.tagNodes;
      this.#describe(e, { ...ticket, joinedAt: e.ticket.joinedAt });
      e.tagNodes = e.tags.map((tag) => {
        const at = old.indexOf(tag);
        return at >= 0 ? oldNodes[at]! : this.#tagList(e.bucket, tag).push(e);
      });
      for (let i = 0; i < old.length; i++) if (!e.tags.includes(old[i]!)) this.#unlinkTag(e.bucket, old[i]!, oldNodes[i]!);
      this.#learn(e);
      return;
    }
    const t = existing ? { ...ticket, joinedAt: existing.ticket.joinedAt } : ticket;
    if (existing) this.#remove(existing);
    const key = keyOf(t.mode, t.language);
    let bucket = this.#buckets.get(key);
    if (!bucket) this.#buckets.set(key, (bucket = new Bucket(key)));
    const e = new Entry(bucket);
    this.#describe(e, t);
    e.node = bucket.everyone.push(e);
    e.tagNodes = e.tags.map((tag) => this.#tagList(bucket, tag).push(e));
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
    return [...this.#tagCounts]
      .map(([tag, count]) => ({ tag, count }))
      .sort((x, y) => y.count - x.count || (x.tag < y.tag ? -1 : 1))
      .slice(0, n);
  }

  /** Always current. */
  async refresh(): Promise<void> {}

  /** Sets what a decision reads of the person from their ticket (the nodes are updated by `#learn`). */
  #describe(e: Entry, t: Ticket): void {
    e.ticket = t;
    e.region = t.region === undefined ? 0 : intern(this.#regionIds, t.region);
    e.flags = (t.held ? HELD : 0) | (t.verified ? VERIFIED : 0) | (t.verifiedOnly ? VERIFIED_ONLY : 0);
    e.interests = t.interests.map((tag) => intern(this.#tagIds, tag));
    e.tags = [...new Set(e.interests)];
    this.#search.tags(this.#tagIds.size);
  }

  /** Copies the entry onto its nodes, and records it in the reverse indexes and the counts. */
  #learn(e: Entry): void {
    e.node!.copy(e);
    for (const node of e.tagNodes) node.copy(e);
    const t = e.ticket;
    for (const id of t.blocked) addTo(this.#blockers, id, e);
    for (const r of t.recent) addTo(this.#listers, r.userId, e);
    this.#count(t.interests, 1);
  }

  /** Undoes `#learn`'s records (not the nodes). */
  #forget(e: Entry): void {
    const t = e.ticket;
    for (const id of t.blocked) deleteFrom(this.#blockers, id, e);
    for (const r of t.recent) deleteFrom(this.#listers, r.userId, e);
    this.#count(t.interests, -1);
  }

  #remove(e: Entry): void {
    this.#forget(e);
    this.#entries.delete(e.ticket.userId);
    const bucket = e.bucket;
    bucket.everyone.unlink(e.node!);
    for (let i = 0; i < e.tags.length; i++) this.#unlinkTag(bucket, e.tags[i]!, e.tagNodes[i]!);
    if (bucket.everyone.size === 0) this.#buckets.delete(bucket.key);
  }

  #tagList(bucket: Bucket, tag: number): List {
    let list = bucket.byTag.get(tag);
    if (!list) bucket.byTag.set(tag, (list = new List()));
    return list;
  }

  #unlinkTag(bucket: Bucket, tag: number, node: Node): void {
    const list = bucket.byTag.get(tag)!;
    list.unlink(node);
    if (list.size === 0) bucket.byTag.delete(tag);
  }

  /** The counts behind `topInterests` (each tag as often as the ticket names it). */
  #count(tags: readonly string[], by: 1 | -1): void {
    for (const tag of tags) {
      const n = (this.#tagCounts.get(tag) ?? 0) + by;
      if (n > 0) this.#tagCounts.set(tag, n);
      else this.#tagCounts.delete(tag);
    }
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
/** Tags a node carries inline (t0..t4); more are in `more`. */
const INLINE_TAGS = 5;
/** Above this many blocks, a seeker's are tested on every candidate instead of marked. */
const MARKED_BLOCKS = 64;

/** Small numbers for strings, from 1 (0 means none). */
function intern(ids: Map<string, number>, s: string): number {
  let id = ids.get(s);
  if (id === undefined) ids.set(s, (id = ids.size + 1));
  return id;
}

function addTo(index: Map<string, Set<Entry>>, id: string, e: Entry): void {
  let set = index.get(id);
  if (!set) index.set(id, (set = new Set()));
  set.add(e);
}

function deleteFrom(index: Map<string, Set<Entry>>, id: string, e: Entry): void {
  const set = index.get(id);
  if (set?.delete(e) && set.size === 0) index.delete(id);
}

/** A waiting person: their ticket, interned, and their nodes. */
class Entry {
  ticket!: Ticket;
  /** Interned region, 0 for none. */
  region = 0;
  /** HELD | VERIFIED | VERIFIED_ONLY. */
  flags = 0;
  /** Interned interests as the ticket lists them, and the same without repeats (one index node each). */
  interests: number[] = [];
  tags: number[] = [];
  node: Node | undefined;
  /** The person's node in the index of `tags[i]`. */
  tagNodes: Node[] = [];

  constructor(readonly bucket: Bucket) {}

  mark(stamp: number): void {
    this.node!.mark = stamp;
    for (const node of this.tagNodes) node.mark = stamp;
  }
}

/** A person's place in one index, with a copy of what most tests read (see `Seeker#consider`). */
class Node {
  prev: Node | null = null;
  next: Node | null = null;
  /** The search for which this person must be tested on blocks and recent partners (or is the seeker). */
  mark = 0;
  joinedAt = 0;
  region = 0;
  flags = 0;
  t0 = 0;
  t1 = 0;
  t2 = 0;
  t3 = 0;
  t4 = 0;
  more: number[] | null = null;

  constructor(readonly entry: Entry) {}

  copy(e: Entry): void {
    const tags = e.tags;
    this.joinedAt = e.ticket.joinedAt;
    this.region = e.region;
    this.flags = e.flags;
    this.t0 = tags[0] ?? 0;
    this.t1 = tags[1] ?? 0;
    this.t2 = tags[2] ?? 0;
    this.t3 = tags[3] ?? 0;
    this.t4 = tags[4] ?? 0;
    this.more = tags.length > INLINE_TAGS ? tags.slice(INLINE_TAGS) : null;
  }
}

/** One index, oldest first: an intrusive doubly linked list (O(1) removal, no holes to walk). */
class List {
  head: Node | null = null;
  tail: Node | null = null;
  size = 0;

  push(e: Entry): Node {
    const node = new Node(e);
    node.prev = this.tail;
    if (this.tail) this.tail.next = node;
    else this.head = node;
    this.tail = node;
    this.size += 1;
    return node;
  }

  unlink(node: Node): void {
    if (node.prev) node.prev.next = node.next;
    else this.head = node.next;
    if (node.next) node.next.prev = node.prev;
    else this.tail = node.prev;
    node.prev = node.next = null;
    this.size -= 1;
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
  readonly #cursors: Array<Node | null> = [];

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
  #best: Entry | undefined;
  #bestShared = 0;
  #bestSameRegion = 0;
  #bestJoinedAt = 0;

  constructor(
    readonly policy: MatchPolicy,
    readonly limits: SearchLimits,
    readonly entries: ReadonlyMap<string, Entry>,
    readonly blockers: ReadonlyMap<string, ReadonlySet<Entry>>,
    readonly listers: ReadonlyMap<string, ReadonlySet<Entry>>,
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
    this.#best = undefined;

    const bucket = e.bucket;
    const cursors = this.#cursors;
    if (this.#k > 0) {
      cursors.length = 0;
      for (const tag of e.interests) cursors.push(bucket.byTag.get(tag)?.head ?? null);
      const found = this.#scan(stamp) ?? this.#best;
      if (found) return found;
      if (stage === 'strict') return undefined;
    }
    cursors.length = 0;
    cursors.push(bucket.everyone.head);
    return this.#scan(stamp) ?? this.#best;
  }

  /** search.ts `scan`: the indexes in `#cursors`, page by page. The unbeatable candidate, if met. */
  #scan(stamp: number): Entry | undefined {
    const { pageSize, scanLimit } = this.limits;
    const cursors = this.#cursors;
    for (let start = 0; start < scanLimit; start += pageSize) {
      const count = Math.min(pageSize, scanLimit - start);
      let exhausted = true;
      for (let i = 0; i < cursors.length; i++) {
        let node = cursors[i] ?? null;
        let taken = 0;
        for (; taken < count && node !== null; taken++) {
          if (this.#consider(node, stamp)) return node.entry;
          node = node.next;
        }
        cursors[i] = node;
        if (taken === count) exhausted = false;
      }
      if (exhausted) break;
    }
    return undefined;
  }

  /**
   * rules.ts `compatible(seeker, c)`, then search.ts's `unbeatable` (true: the search ends with c)
   * or `rank` against the best so far. Mode and language need no test: c is in the seeker's bucket.
   */
  #consider(c: Node, stamp: number): boolean {
    const policy = this.policy;
    const flags = c.flags;
    if (((flags & HELD) !== 0) !== this.#held) return false;
    if (this.#verifiedOnly && (flags & VERIFIED) === 0) return false;
    if ((flags & VERIFIED_ONLY) !== 0 && !this.#verified) return false;
    const region = c.region;
    if (this.#regionRequired && region !== this.#region) return false;
    // c's stage (rules.ts stageOf).
    const waited = this.#now - c.joinedAt;
    const cRegionDropped = waited >= policy.regionRequiredMs;
    if (!cRegionDropped && region !== 0 && region !== this.#region) return false;
    let shared = 0;
    if (this.#k > 0 && c.t0 !== 0) {
      const w = this.#weight;
      const ws = this.#weightStamp;
      shared =
        (ws[c.t0] === stamp ? w[c.t0]! : 0) +
        (ws[c.t1] === stamp ? w[c.t1]! : 0) +
        (ws[c.t2] === stamp ? w[c.t2]! : 0) +
        (ws[c.t3] === stamp ? w[c.t3]! : 0) +
        (ws[c.t4] === stamp ? w[c.t4]! : 0);
      if (c.more !== null) for (const tag of c.more) if (ws[tag] === stamp) shared += w[tag]!;
    }
    if (shared === 0) {
      if (this.#strictInterests) return false;
      if (c.t0 !== 0 && !cRegionDropped && !(waited >= policy.interestsRequiredMs)) return false;
    }
    if ((c.mark === stamp || this.#testAll) && !this.#acceptsMarked(c.entry, waited)) return false;
    const sameRegion = this.#region !== 0 && region === this.#region ? 1 : 0;
    if (shared === this.#k && (this.#region === 0 || sameRegion === 1)) return true;
    if (
      this.#best === undefined ||
      shared > this.#bestShared ||
      (shared === this.#bestShared &&
        (sameRegion > this.#bestSameRegion || (sameRegion === this.#bestSameRegion && c.joinedAt < this.#bestJoinedAt)))
    ) {
      this.#best = c.entry;
      this.#bestShared = shared;
      this.#bestSameRegion = sameRegion;
      this.#bestJoinedAt = c.joinedAt;
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
