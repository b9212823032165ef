import type { Ticket } from './rules.js';

/**
 * The in-process pool's records (see memoryPool.ts): a waiting person (`Entry`), the interned
 * strings a decision compares as numbers (`Interner`), and the indexes people wait in — one
 * doubly linked list per bucket and per interest, kept in typed arrays (`List`).
 */

/**
 * A bucket's key: one mode and language, unambiguous whatever the strings hold (so people in one
 * bucket share both, and a decision need not compare them).
 */
export const keyOf = (mode: string, language: string): string => `${mode.length}:${mode}:${language}`;

export const HELD = 1;
export const VERIFIED = 2;
export const VERIFIED_ONLY = 4;
/** In a record's flags: the person has more tags than the record holds (read from the entry). */
export const MORE_TAGS = 8;
/** Above this many blocks, a seeker's are tested on every candidate instead of marked. */
export const MARKED_BLOCKS = 64;

/**
 * Small numbers for strings, from 1 (0 means none), counted: a number is given back when nobody
 * waiting names the string any more (people type their own tags; the table must not only grow).
 */
export class Interner {
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
export function addTo(index: Map<string, Entry[]>, id: string, e: Entry): void {
  const list = index.get(id);
  if (!list) index.set(id, [e]);
  else if (!list.includes(e)) list.push(e);
}

export function deleteFrom(index: Map<string, Entry[]>, id: string, e: Entry): void {
  const list = index.get(id);
  const at = list ? list.indexOf(e) : -1;
  if (at < 0) return;
  if (list!.length === 1) index.delete(id);
  else list!.splice(at, 1);
}

/** Shared by every entry with no interests: an entry allocates only what it holds. */
export const NO_NUMBERS: readonly number[] = Object.freeze([]);
const NO_LISTS: readonly List[] = Object.freeze([]);

/** A waiting person: their ticket, interned, and their places in the bucket's lists. */
export class Entry {
  ticket!: Ticket;
  /** Interned region, 0 for none. */
  region = 0;
  /** HELD | VERIFIED | VERIFIED_ONLY. */
  flags = 0;
  /** The ticket names people (blocks or recent partners): the entry is in the reverse indexes. */
  listed = false;
  /**
   * Interned interests as the ticket lists them, and the same without repeats (one index record
   * each; the same array when there are none). Never changed in place: replaced on a re-join.
   */
  interests: readonly number[] = NO_NUMBERS;
  tags: readonly number[] = NO_NUMBERS;
  /** The person's handle in the bucket's everyone list, and in the list of `tags[i]` (`tagLists[i]`). */
  place = -1;
  tagPlaces: readonly number[] = NO_NUMBERS;
  tagLists: readonly List[] = NO_LISTS;

  constructor(
    /** The ticket's userId, kept here too: taking the person out then reads no ticket. */
    readonly id: string,
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
export const NEXT = 0;
export const PREV = 1;
export const SLOT = 2;
/** The handle the person knows the record by (records move, handles do not). */
export const HANDLE = 3;
export const REGION = 4;
export const FLAGS = 5;
/** Tags held in the record: TAG .. TAG + INLINE_TAGS - 1 (0 where none). */
export const TAG = 6;
export const INLINE_TAGS = 5;
export const INTS = TAG + INLINE_TAGS;
export const JOINED = 0;
/** The search for which this person must be tested on blocks and recent partners (or is the seeker). */
export const MARK = 1;
export const NUMS = 2;
export const NONE = -1;

/**
 * One index, oldest first: a doubly linked list of records in typed arrays. Records are appended
 * at the list's tail and the arrays' end, so list order is array order; an unlinked record is
 * skipped by the links (no holes to walk) and its room is taken back when the arrays fill: the
 * live records are then moved up in place (or into arrays twice the live size, when more than half
 * are live), so the records a scan walks lie side by side. O(1) amortized per push. People hold a
 * handle to their record, which a move keeps pointing at it.
 */
export class List {
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
export class Bucket {
  readonly everyone = new List();
  readonly byTag = new Map<number, List>();
  constructor(readonly key: string) {}
}
