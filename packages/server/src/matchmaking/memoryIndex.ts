import type { Ticket } from './rules.js';

/**
 * The in-process pool's records (see memoryPool.ts): the interned strings a decision compares as
 * numbers (`Interner`), the names a ticket lists as a small fingerprint (`idBits`, `addToMask`),
 * and the indexes people wait in — one doubly linked list per bucket and per interest, kept in
 * typed arrays (`List`).
 */

export const HELD = 1;
export const VERIFIED = 2;
export const VERIFIED_ONLY = 4;
/** In a person's flags: more tags than a record holds (the rest are in the pool's overflow). */
export const MORE_TAGS = 8;
/** In a person's flags: their tags are in the pool's overflow (more than a record holds, or repeated). */
export const OVERFLOW = 16;

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

/**
 * A name's fingerprint: three bit positions in MASK_BITS, packed 8 bits each. A person's mask holds
 * the fingerprints of everyone their ticket names (blocks and recent partners), so "does c name
 * the seeker?" is answered "no" from c's record in nearly every case without reading c's ticket
 * (a "maybe" is then tested on the tickets). No index keyed by id has to be kept up to date.
 */
export const MASK_BITS = 96;
export const MASK_WORDS = MASK_BITS / 32;

/** A 32-bit hash of an id: FNV-1a, then murmur3's finalizer so every bit depends on every character. */
export function hashId(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** An id's fingerprint, from its hash (`hashId`). */
export function bitsOf(h: number): number {
  return ((h & 0x3ff) % MASK_BITS) | ((((h >>> 10) & 0x3ff) % MASK_BITS) << 8) | ((((h >>> 20) & 0x3ff) % MASK_BITS) << 16);
}

export const idBits = (id: string): number => bitsOf(hashId(id));

/** Sets a name's three bits in the mask at `at` of `mask`. */
export function addToMask(mask: Int32Array, at: number, bits: number): void {
  for (let s = 0; s < 24; s += 8) {
    const p = (bits >>> s) & 0xff;
    mask[at + (p >>> 5)]! |= 1 << (p & 31);
  }
}

/** Whether the mask at `at` of `mask` holds all three bits of a name (it may name them). */
export function mayName(mask: Int32Array, at: number, bits: number): boolean {
  const p0 = bits & 0xff;
  const p1 = (bits >>> 8) & 0xff;
  const p2 = bits >>> 16;
  return (
    (mask[at + (p0 >>> 5)]! & (1 << (p0 & 31))) !== 0 &&
    (mask[at + (p1 >>> 5)]! & (1 << (p1 & 31))) !== 0 &&
    (mask[at + (p2 >>> 5)]! & (1 << (p2 & 31))) !== 0
  );
}

// What a decision reads of a person, as the pool keeps it by slot (DATA numbers from slot * DATA)
// and as each of their list records carries it (from record * INTS + RECORD_DATA).
export const REGION = 0;
export const FLAGS = 1;
/** Tags held in the record: TAG .. TAG + INLINE_TAGS - 1 (0 where none). */
export const TAG = 2;
export const INLINE_TAGS = 5;
/** The fingerprint of the person's id (`idBits`), and of the names their ticket lists (`addToMask`). */
export const ID_BITS = TAG + INLINE_TAGS;
export const MASK = ID_BITS + 1;
export const DATA = MASK + MASK_WORDS;

// A list record: INTS 32-bit numbers from record * INTS (one 64-byte line), the wait in its last
// two as a float64 (at record * NUMS + JOINED of the same memory seen as Float64Array).
export const NEXT = 0;
export const PREV = 1;
export const SLOT = 2;
export const RECORD_DATA = 3;
export const INTS = 16;
export const NUMS = INTS / 2;
export const JOINED = NUMS - 1;
export const NONE = -1;
// The record must hold the data and the wait.
if (RECORD_DATA + DATA > 2 * JOINED) throw new Error('a list record is too small for its data');

/**
 * One index, oldest first: a doubly linked list of records in typed arrays. Records are appended
 * at the list's tail and the arrays' end, so list order is array order; an unlinked record is
 * skipped by the links (no holes to walk) and its room is taken back when the arrays fill: the
 * live records are then moved up in place (or into arrays twice the live size, when more than half
 * are live), so the records a scan walks lie side by side. O(1) amortized per push. People hold a
 * handle to their record, which a move keeps pointing at it.
 */
export class List {
  /**
   * Lists that track a cut (`reach` > 0): `cut` is the record at position reach - 1 (NONE while
   * fewer are in the list), so whether a record is within the first `reach` positions is one
   * comparison of record numbers (list order is array order).
   */
  cut = NONE;
  /**
   * A region list is in the order of its bucket's everyone list while true (people are appended
   * to both at once); a re-join that changes region may break that, and a scan then reads everyone.
   */
  ordered = true;
  ints = new Int32Array(8 * INTS);
  nums = new Float64Array(this.ints.buffer);
  /** Records written so far (live or unlinked). */
  used = 0;
  head = NONE;
  tail = NONE;
  size = 0;
  /** Handle -> record, record -> handle, and the handles free for reuse. */
  #recordOf = new Int32Array(8);
  #handleOf = new Int32Array(8);
  readonly #freeHandles: number[] = [];
  #handles = 0;

  constructor(readonly reach = 0) {}

  /** Records the arrays have room for. */
  get capacity(): number {
    return this.#handleOf.length;
  }

  /** The record of a handle (its position in the list, as an order: list order is array order). */
  record(h: number): number {
    return this.#recordOf[h]!;
  }

  /** Appends the person in `slot` (their data is written by `write`); the record's handle. */
  push(slot: number): number {
    if (this.used === this.#handleOf.length) this.#rebuild();
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
    this.#handleOf[r] = h;
    const ints = this.ints;
    ints[r * INTS + SLOT] = slot;
    ints[r * INTS + NEXT] = NONE;
    ints[r * INTS + PREV] = this.tail;
    if (this.tail !== NONE) ints[this.tail * INTS + NEXT] = r;
    else this.head = r;
    this.tail = r;
    this.size += 1;
    if (this.size === this.reach) this.cut = r;
    return h;
  }

  /** Copies what a decision reads of the person (`DATA` numbers of `data` from `from`, and the wait) into their record. */
  write(h: number, data: Int32Array, from: number, joinedAt: number): void {
    const r = this.#recordOf[h]!;
    const ints = this.ints;
    const at = r * INTS + RECORD_DATA;
    for (let i = 0; i < DATA; i++) ints[at + i] = data[from + i]!;
    this.nums[r * NUMS + JOINED] = joinedAt;
  }

  unlink(h: number): void {
    const r = this.#recordOf[h]!;
    this.#freeHandles.push(h);
    const ints = this.ints;
    const next = ints[r * INTS + NEXT]!;
    const prev = ints[r * INTS + PREV]!;
    // A record at or before the cut moves the cut one on (to NONE when fewer than `reach` are left).
    if (this.cut !== NONE && r <= this.cut) this.cut = ints[this.cut * INTS + NEXT]!;
    if (prev !== NONE) ints[prev * INTS + NEXT] = next;
    else this.head = next;
    if (next !== NONE) ints[next * INTS + PREV] = prev;
    else this.tail = prev;
    this.size -= 1;
    if (this.size === 0) {
      // Empty: the arrays are reused from their start, and any order holds.
      this.used = 0;
      this.ordered = true;
    }
  }

  #rebuild(): void {
    // In place when at most half are live: record r moves to n <= r, walking in list (= array) order.
    const grow = 2 * this.size > this.used;
    const capacity = grow ? 2 * this.size : this.used;
    const ints = grow ? new Int32Array(capacity * INTS) : this.ints;
    const handleOf = grow ? new Int32Array(capacity) : this.#handleOf;
    const from = this.ints;
    const fromHandleOf = this.#handleOf;
    const recordOf = this.#recordOf;
    let n = 0;
    let cut = NONE;
    for (let r = this.head; r !== NONE; n++) {
      if (r === this.cut) cut = n;
      const next = from[r * INTS + NEXT]!;
      // The whole record, the wait's two halves included (copied as they are, bit for bit).
      for (let i = 0; i < INTS; i++) ints[n * INTS + i] = from[r * INTS + i]!;
      ints[n * INTS + PREV] = n - 1;
      ints[n * INTS + NEXT] = n + 1;
      const h = fromHandleOf[r]!;
      handleOf[n] = h;
      recordOf[h] = n;
      r = next;
    }
    if (n > 0) ints[(n - 1) * INTS + NEXT] = NONE;
    this.ints = ints;
    this.nums = grow ? new Float64Array(ints.buffer) : this.nums;
    this.#handleOf = handleOf;
    this.cut = cut;
    this.used = n;
    this.head = n > 0 ? 0 : NONE;
    this.tail = n - 1;
  }
}

/** Everyone waiting in one mode and language, and the same people by interest and by region. */
export class Bucket {
  readonly everyone: List;
  /** By interned tag and region number (small numbers, reused: arrays, not maps). */
  readonly byTag: Array<List | undefined> = [];
  readonly byRegion: Array<List | undefined> = [];
  constructor(
    readonly mode: string,
    readonly language: string,
    /** How far an everyone scan reads (the everyone list's cut). */
    reach: number,
  ) {
    this.everyone = new List(reach);
  }
}

/** Where the tags of a person are when their record cannot hold them all, or their ticket repeats one. */
export interface Overflow {
  /** Interned interests as the ticket lists them (repeats kept: the rules count them). */
  readonly interests: number[];
  /** The same without repeats, one list record each, and the handles and lists of those records. */
  readonly tags: number[];
  readonly places: number[];
  readonly lists: List[];
}

/** Places per slot: the handle in the bucket's everyone list, in its region's list, then one per inline tag. */
export const PLACES = 2 + INLINE_TAGS;
export const REGION_PLACE = 1;
const TAG_PLACE = 2;

/**
 * Everyone waiting, by slot number (what a list record points to), in typed arrays and a few
 * arrays of references: no object per person, so the collector has little to trace or copy.
 */
export class People {
  /** By slot: what a decision reads (DATA numbers each, as list records carry them). */
  data = new Int32Array(64 * DATA);
  /** By slot: the handles of the person's records (PLACES each; see `place`). */
  places = new Int32Array(64 * PLACES);
  /** By slot: how many interests the ticket names (repeats counted), and how many distinct tags. */
  interestCount = new Int32Array(64);
  tagCount = new Int32Array(64);
  readonly ids: Array<string | undefined> = [];
  readonly tickets: Array<Ticket | undefined> = [];
  readonly buckets: Array<Bucket | undefined> = [];
  /** By slot: INLINE_TAGS each, the lists of the inline tags' records. */
  readonly lists: Array<List | undefined> = [];
  /** By slot, for those flagged OVERFLOW. */
  readonly overflow = new Map<number, Overflow>();
  readonly #free: number[] = [];
  #slots = 0;

  get capacity(): number {
    return this.interestCount.length;
  }

  alloc(): number {
    const slot = this.#free.pop();
    if (slot !== undefined) return slot;
    if (this.#slots === this.capacity) this.#grow();
    return this.#slots++;
  }

  free(slot: number): void {
    this.ids[slot] = undefined;
    this.tickets[slot] = undefined;
    this.buckets[slot] = undefined;
    for (let i = 0; i < INLINE_TAGS; i++) this.lists[slot * INLINE_TAGS + i] = undefined;
    this.#free.push(slot);
  }

  /** The distinct tag `i` of the person, the handle of its record and its list. */
  tag(slot: number, i: number): number {
    return (this.data[slot * DATA + FLAGS]! & OVERFLOW) !== 0 ? this.overflow.get(slot)!.tags[i]! : this.data[slot * DATA + TAG + i]!;
  }

  place(slot: number, i: number): number {
    return (this.data[slot * DATA + FLAGS]! & OVERFLOW) !== 0
      ? this.overflow.get(slot)!.places[i]!
      : this.places[slot * PLACES + TAG_PLACE + i]!;
  }

  list(slot: number, i: number): List {
    return (this.data[slot * DATA + FLAGS]! & OVERFLOW) !== 0 ? this.overflow.get(slot)!.lists[i]! : this.lists[slot * INLINE_TAGS + i]!;
  }

  setTagRecord(slot: number, i: number, list: List, place: number): void {
    if ((this.data[slot * DATA + FLAGS]! & OVERFLOW) !== 0) {
      const o = this.overflow.get(slot)!;
      o.places[i] = place;
      o.lists[i] = list;
    } else {
      this.places[slot * PLACES + TAG_PLACE + i] = place;
      this.lists[slot * INLINE_TAGS + i] = list;
    }
  }

  /** The interned interests as the ticket lists them, into `out`. */
  interests(slot: number, out: number[]): number[] {
    out.length = 0;
    if ((this.data[slot * DATA + FLAGS]! & OVERFLOW) !== 0) for (const tag of this.overflow.get(slot)!.interests) out.push(tag);
    else for (let i = 0; i < this.interestCount[slot]!; i++) out.push(this.data[slot * DATA + TAG + i]!);
    return out;
  }

  #grow(): void {
    const n = 2 * this.capacity;
    const data = new Int32Array(n * DATA);
    data.set(this.data);
    this.data = data;
    const places = new Int32Array(n * PLACES);
    places.set(this.places);
    this.places = places;
    const interestCount = new Int32Array(n);
    interestCount.set(this.interestCount);
    this.interestCount = interestCount;
    const tagCount = new Int32Array(n);
    tagCount.set(this.tagCount);
    this.tagCount = tagCount;
  }
}

const EMPTY = -1;
const DELETED = -2;

/**
 * Everyone waiting, id -> slot: open addressing over the ids' hashes (`hashId`, which the pool
 * works out anyway for the fingerprint), in one Int32Array of (hash, slot) pairs. Unlike a `Map`,
 * a newcomer costs one probe (the search that finds them absent also finds their place), and
 * taking someone out by slot costs no probe at all (each slot knows its position).
 */
export class IdTable {
  /** (hash, slot) pairs; slot EMPTY or DELETED for a free position. */
  #table = new Int32Array(2 * 64).fill(EMPTY);
  #mask = 63;
  size = 0;
  /** Live and deleted positions: kept under half the table, so probes stay short. */
  #used = 0;
  /** By slot: the position. */
  #posOf = new Int32Array(64);

  constructor(
    /** By slot: the id (what a probe that meets the right hash confirms). */
    readonly ids: ReadonlyArray<string | undefined>,
  ) {}

  /** The slot of `id` (whose hash is `h`), or NONE. */
  get(id: string, h: number): number {
    const table = this.#table;
    for (let p = h & this.#mask; ; p = (p + 1) & this.#mask) {
      const slot = table[2 * p + 1]!;
      if (slot === EMPTY) return NONE;
      if (slot >= 0 && table[2 * p] === h && this.ids[slot] === id) return slot;
    }
  }

  /** The slot of `id`, or where it would go: `-2 - position` (for `add`). */
  find(id: string, h: number): number {
    const table = this.#table;
    let free = NONE;
    for (let p = h & this.#mask; ; p = (p + 1) & this.#mask) {
      const slot = table[2 * p + 1]!;
      if (slot === EMPTY) return -2 - (free === NONE ? p : free);
      if (slot === DELETED) {
        if (free === NONE) free = p;
      } else if (table[2 * p] === h && this.ids[slot] === id) return slot;
    }
  }

  /** Puts `slot` (whose id's hash is `h`) where `find` said its id belongs. */
  add(place: number, h: number, slot: number): void {
    const p = -2 - place;
    const table = this.#table;
    if (table[2 * p + 1] === EMPTY) this.#used += 1;
    table[2 * p] = h;
    table[2 * p + 1] = slot;
    if (slot >= this.#posOf.length) this.#growSlots(slot);
    this.#posOf[slot] = p;
    this.size += 1;
    if (2 * this.#used > this.#mask + 1) this.#rehash();
  }

  delete(slot: number): void {
    this.#table[2 * this.#posOf[slot]! + 1] = DELETED;
    this.size -= 1;
  }

  #growSlots(slot: number): void {
    const n = Math.max(2 * this.#posOf.length, slot + 1);
    const posOf = new Int32Array(n);
    posOf.set(this.#posOf);
    this.#posOf = posOf;
  }

  /** A table with room for twice as many as now live, without the deleted positions. */
  #rehash(): void {
    const old = this.#table;
    let capacity = 64;
    while (capacity < 4 * this.size) capacity *= 2;
    const table = new Int32Array(2 * capacity).fill(EMPTY);
    const mask = capacity - 1;
    for (let q = 0; q < old.length; q += 2) {
      const slot = old[q + 1]!;
      if (slot < 0) continue;
      const h = old[q]!;
      let p = h & mask;
      while (table[2 * p + 1] !== EMPTY) p = (p + 1) & mask;
      table[2 * p] = h;
      table[2 * p + 1] = slot;
      this.#posOf[slot] = p;
    }
    this.#table = table;
    this.#mask = mask;
    this.#used = this.size;
  }
}
