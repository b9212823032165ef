import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addToMask, hashId, idBits, IdTable, MASK_WORDS, mayName, NONE } from './memoryIndex.js';
import { MemoryPool } from './memoryPool.js';
import type { MatchResult } from './pool.js';
import { DEFAULT_POLICY, type MatchPolicy, type Ticket } from './rules.js';
import { search, searchNow, type Index, type Page, type PageRequest, type SearchLimits } from './search.js';
import { bucketKey, inOfferOrder } from './ticket.js';
import { ticket } from '../testing/tickets.js';

/** Who was matched, oldest first (or what the pool said instead). */
const ids = (r: MatchResult) => (Array.isArray(r) ? r.map((t) => t.userId) : r);

describe('MemoryPool', () => {
  it('pairs the longest-waiting compatible people and removes both', async () => {
    const pool = new MemoryPool(DEFAULT_POLICY);
    await pool.enqueue(ticket('a', { joinedAt: 1 }));
    await pool.enqueue(ticket('b', { joinedAt: 2 }));
    await pool.enqueue(ticket('c', { joinedAt: 3 }));
    expect(ids(await pool.matchFor('c', 10))).toEqual(['a', 'c']);
    expect([await pool.has('a'), await pool.has('b'), await pool.has('c'), pool.size]).toEqual([false, true, false, 1]);
  });

  it('prefers more shared interests over a longer wait', async () => {
    const pool = new MemoryPool(DEFAULT_POLICY);
    await pool.enqueue(ticket('old', { joinedAt: 1, interests: ['chess'] }));
    await pool.enqueue(ticket('fan', { joinedAt: 2, interests: ['chess', 'go'] }));
    await pool.enqueue(ticket('new', { joinedAt: 3, interests: ['chess', 'go'] }));
    expect(ids(await pool.matchFor('new', 4))).toEqual(['fan', 'new']);
  });

  it('keeps one entry per person; a re-join keeps its place and wait, and may move bucket', async () => {
    const pool = new MemoryPool(DEFAULT_POLICY);
    await pool.enqueue(ticket('a', { joinedAt: 1, interests: ['x'] }));
    await pool.enqueue(ticket('b', { joinedAt: 2 }));
    await pool.enqueue(ticket('a', { joinedAt: 9, interests: ['y'] }));
    expect(pool.size).toBe(2);
    expect((await pool.get('a'))?.joinedAt).toBe(1);
    expect(pool.topInterests(5)).toEqual([{ tag: 'y', count: 1 }]);
    await pool.enqueue(ticket('a', { joinedAt: 9, mode: 'advice' }));
    expect(pool.poolSize('chat', 'en')).toBe(1);
    expect(pool.poolSize('advice', 'en')).toBe(1);
    expect(await pool.matchFor('b', 10)).toBeUndefined();
  });

  it('finds a compatible partner behind incompatible ones, within the scan bound', async () => {
    const pool = new MemoryPool(DEFAULT_POLICY, 64);
    for (let i = 0; i < 50; i++) await pool.enqueue(ticket(`blocked${i}`, { joinedAt: i }));
    await pool.enqueue(ticket('ok', { joinedAt: 100 }));
    const blocked = new Set(Array.from({ length: 50 }, (_, i) => `blocked${i}`));
    await pool.enqueue(ticket('me', { joinedAt: 200, blocked }));
    expect(ids(await pool.matchFor('me', 300))).toEqual(['ok', 'me']);
  });

  it('counts the most common interests among people waiting', async () => {
    const pool = new MemoryPool(DEFAULT_POLICY);
    await pool.enqueue(ticket('a', { interests: ['music', 'art'] }));
    await pool.enqueue(ticket('b', { interests: ['music'] }));
    await pool.enqueue(ticket('c', { interests: ['chess'] }));
    expect(pool.topInterests(2)).toEqual([
      { tag: 'music', count: 2 },
      { tag: 'art', count: 1 },
    ]);
    await pool.remove('a');
    expect(pool.topInterests(5)).toEqual([
      { tag: 'chess', count: 1 },
      { tag: 'music', count: 1 },
    ]);
  });
});

/**
 * The pool as search.ts defines it, written plainly: insertion-ordered maps per bucket and per
 * interest, and the `search` generator answered page by page. MemoryPool must decide exactly as
 * this does (the same partner, or nobody), limits included.
 */
class ReferencePool {
  readonly tickets = new Map<string, Ticket>();
  readonly buckets = new Map<string, { order: Map<string, Ticket>; byTag: Map<string, Map<string, Ticket>> }>();

  constructor(
    readonly policy: MatchPolicy,
    readonly limits: SearchLimits,
  ) {}

  enqueue(ticket: Ticket): void {
    const existing = this.tickets.get(ticket.userId);
    const t = existing ? { ...ticket, joinedAt: existing.joinedAt } : ticket;
    if (existing && bucketKey(existing.mode, existing.language) !== bucketKey(t.mode, t.language)) this.remove(existing.userId);
    const key = bucketKey(t.mode, t.language);
    let bucket = this.buckets.get(key);
    if (!bucket) this.buckets.set(key, (bucket = { order: new Map(), byTag: new Map() }));
    if (existing && this.tickets.has(t.userId))
      for (const tag of existing.interests) if (!t.interests.includes(tag)) bucket.byTag.get(tag)?.delete(t.userId);
    bucket.order.set(t.userId, t);
    for (const tag of t.interests) {
      let index = bucket.byTag.get(tag);
      if (!index) bucket.byTag.set(tag, (index = new Map()));
      index.set(t.userId, t);
    }
    this.tickets.set(t.userId, t);
  }

  remove(userId: string): boolean {
    const t = this.tickets.get(userId);
    if (!t) return false;
    this.tickets.delete(userId);
    const key = bucketKey(t.mode, t.language);
    const bucket = this.buckets.get(key)!;
    bucket.order.delete(userId);
    for (const tag of t.interests) bucket.byTag.get(tag)?.delete(userId);
    if (bucket.order.size === 0) this.buckets.delete(key);
    return true;
  }

  matchFor(userId: string, now: number): [Ticket, Ticket] | undefined {
    const t = this.tickets.get(userId);
    if (!t) return undefined;
    const bucket = this.buckets.get(bucketKey(t.mode, t.language))!;
    const open = new Map<Index, Iterator<Ticket>>();
    const read = ({ indexes, count }: PageRequest): Page => {
      const candidates: Ticket[] = [];
      let exhausted = true;
      for (const index of indexes) {
        let it = open.get(index);
        if (!it) open.set(index, (it = (index === 'everyone' ? bucket.order : (bucket.byTag.get(index.tag) ?? new Map())).values()));
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
    const partner = searchNow(search(t, now, this.policy, bucket.order.size, this.limits), read);
    if (!partner) return undefined;
    this.remove(t.userId);
    this.remove(partner.userId);
    return inOfferOrder(t, partner);
  }
}

describe('MemoryPool decides as search.ts defines', () => {
  it('honours blocks of someone who blocked many (their fingerprint mask is full: every candidate is tested)', async () => {
    const pool = new MemoryPool(DEFAULT_POLICY);
    for (let i = 0; i < 100; i++) await pool.enqueue(ticket(`p${i}`, { joinedAt: i }));
    const blocked = new Set(Array.from({ length: 99 }, (_, i) => `p${i}`));
    await pool.enqueue(ticket('me', { joinedAt: 200, blocked }));
    expect(ids(await pool.matchFor('me', 300))).toEqual(['p99', 'me']);
    await pool.enqueue(ticket('you', { joinedAt: 201, blocked: new Set(['p0']) }));
    expect(ids(await pool.matchFor('you', 300))).toEqual(['p1', 'you']);
  });

  it('never misses a name a ticket lists: its fingerprint is in the mask, whatever else is', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string({ maxLength: 40 }), { maxLength: 80 }), fc.string({ maxLength: 40 }), (names, other) => {
        const mask = new Int32Array(1 + MASK_WORDS);
        for (const name of names) addToMask(mask, 1, idBits(name));
        for (const name of names) expect(mayName(mask, 1, idBits(name))).toBe(true);
        if (names.length === 0) expect(mayName(mask, 1, idBits(other))).toBe(false);
        expect(mask[0]).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it('finds ids by slot as a Map does, whatever their hashes (here a weak one, so they collide)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 300 })), { maxLength: 2_000 }),
        fc.constantFrom(0, 3, 0xff, -1),
        (ops, weak) => {
          const ids: Array<string | undefined> = [];
          const table = new IdTable(ids);
          const reference = new Map<string, number>();
          const free: number[] = [];
          for (const [add, n] of ops) {
            const id = `id${n}`;
            const h = hashId(id) & weak;
            const at = table.find(id, h);
            expect(at >= 0 ? at : undefined).toBe(reference.get(id));
            if (add && at < 0) {
              const slot = free.pop() ?? ids.length;
              ids[slot] = id;
              table.add(at, h, slot);
              reference.set(id, slot);
            } else if (!add && at >= 0) {
              table.delete(at);
              ids[at] = undefined;
              free.push(at);
              reference.delete(id);
            }
            expect(table.size).toBe(reference.size);
          }
          for (let n = 0; n <= 300; n++) expect(table.get(`id${n}`, hashId(`id${n}`) & weak)).toBe(reference.get(`id${n}`) ?? NONE);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('keeps the everyone order for a seeker who requires their region, after a re-join that changes region', async () => {
    const pool = new MemoryPool(DEFAULT_POLICY, 2);
    await pool.enqueue(ticket('a', { joinedAt: 1, region: 'eu' }));
    await pool.enqueue(ticket('b', { joinedAt: 2, region: 'us' }));
    // a keeps their place in line, ahead of b, and is now in the region's list behind b.
    await pool.enqueue(ticket('a', { joinedAt: 1, region: 'us' }));
    await pool.enqueue(ticket('s', { joinedAt: 3, region: 'us' }));
    expect(ids(await pool.matchFor('s', 4))).toEqual(['a', 's']);
  });

  it('names a tag again after everyone who named it left (its number is reused)', async () => {
    const pool = new MemoryPool(DEFAULT_POLICY);
    await pool.enqueue(ticket('a', { joinedAt: 1, interests: ['chess'] }));
    await pool.remove('a');
    await pool.enqueue(ticket('b', { joinedAt: 2, interests: ['go'] }));
    await pool.enqueue(ticket('c', { joinedAt: 3, interests: ['chess'] }));
    await pool.enqueue(ticket('d', { joinedAt: 4, interests: ['chess'] }));
    expect(pool.topInterests(5)).toEqual([
      { tag: 'chess', count: 2 },
      { tag: 'go', count: 1 },
    ]);
    expect(ids(await pool.matchFor('d', 5))).toEqual(['c', 'd']);
  });

  it('finds the same partner as the plain reference over random sequences, scan limits and pages included', async () => {
    const POLICY: MatchPolicy = {
      ...DEFAULT_POLICY,
      interestsRequiredMs: 1_000,
      regionRequiredMs: 3_000,
      recentCount: 2,
      recentWindowMs: 10_000,
      smallPool: 3,
      relaxRecentAfterMs: 2_000,
    };
    const ids = Array.from({ length: 24 }, (_, i) => `u${i}`);
    const rarely = fc.oneof({ arbitrary: fc.constant(false), weight: 5 }, { arbitrary: fc.constant(true), weight: 1 });
    const op = fc.oneof(
      {
        weight: 6,
        arbitrary: fc.record({
          kind: fc.constant('join' as const),
          id: fc.constantFrom(...ids),
          // Repeated tags too (the rules count a tag as often as the seeker names it), and more
          // tags than a list record holds.
          interests: fc.oneof(
            fc.constant([]),
            fc.array(fc.constantFrom('chess', 'music', 'art', 'go', 'film'), { maxLength: 4 }),
            fc.uniqueArray(fc.constantFrom('chess', 'music', 'art', 'go', 'film', 'tea', 'jazz', 'math'), { minLength: 5, maxLength: 8 }),
          ),
          region: fc.constantFrom(undefined, undefined, 'eu', 'us', 'as'),
          mode: fc.constantFrom('chat', 'chat', 'chat', 'advice'),
          blocks: fc.subarray(ids, { maxLength: 2 }),
          recent: fc.array(fc.tuple(fc.constantFrom(...ids), fc.integer({ min: 0, max: 15_000 })), { maxLength: 3 }),
          flags: fc.record({ held: rarely, verified: fc.boolean(), verifiedOnly: rarely }),
          joinedAt: fc.integer({ min: 0, max: 3 }),
        }),
      },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('leave' as const), id: fc.constantFrom(...ids) }) },
      { weight: 4, arbitrary: fc.record({ kind: fc.constant('match' as const), id: fc.constantFrom(...ids) }) },
      { weight: 3, arbitrary: fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 1, max: 2_500 }) }) },
    );
    let matches = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(op, { minLength: 20, maxLength: 120 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 5 }),
        async (ops, scanLimit, pageSize) => {
          const pool = new MemoryPool(POLICY, scanLimit, pageSize);
          const reference = new ReferencePool(POLICY, { scanLimit, pageSize });
          let now = 0;
          for (const o of ops) {
            if (o.kind === 'wait') now += o.ms;
            else if (o.kind === 'join') {
              const t = ticket(o.id, {
                // Ties in joinedAt too: then the order of arrival decides.
                joinedAt: now - o.joinedAt,
                interests: o.interests,
                region: o.region,
                mode: o.mode,
                blocked: new Set(o.blocks.filter((b) => b !== o.id)),
                recent: o.recent.map(([userId, ago]) => ({ userId, at: now - ago })).sort((x, y) => x.at - y.at),
                ...(o.flags.held ? { held: true } : {}),
                ...(o.flags.verified ? { verified: true } : {}),
                ...(o.flags.verifiedOnly ? { verifiedOnly: true } : {}),
              });
              await pool.enqueue(t);
              reference.enqueue(t);
            } else if (o.kind === 'leave') {
              expect(await pool.remove(o.id)).toBe(reference.remove(o.id));
            } else {
              const m = await pool.matchFor(o.id, now);
              expect(m, `match for ${o.id} at ${now}`).toEqual(reference.matchFor(o.id, now));
              if (m) matches += 1;
            }
          }
          for (const id of ids) expect(await pool.get(id)).toEqual(reference.tickets.get(id));
          expect(pool.size).toBe(reference.tickets.size);
          for (const mode of ['chat', 'advice'])
            expect(pool.poolSize(mode, 'en')).toBe(reference.buckets.get(bucketKey(mode, 'en'))?.order.size ?? 0);
          const named = new Map<string, number>();
          for (const t of reference.tickets.values()) for (const tag of t.interests) named.set(tag, (named.get(tag) ?? 0) + 1);
          const top = [...named].map(([tag, count]) => ({ tag, count })).sort((x, y) => y.count - x.count || (x.tag < y.tag ? -1 : 1));
          expect(pool.topInterests(20)).toEqual(top);
        },
      ),
      { numRuns: 400 },
    );
    expect(matches, 'the sequences exercise matching').toBeGreaterThan(250);
  });
});
