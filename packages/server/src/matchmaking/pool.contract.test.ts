import fc from 'fast-check';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis, testPrefix } from '../testing/redis.js';
import { MemoryPool } from './memoryPool.js';
import { RedisPool } from './redisPool.js';
import type { MatchResult, WaitingPool } from './pool.js';
import { DEFAULT_POLICY, compatible, type MatchPolicy, type Ticket } from './rules.js';
import { ticket } from '../testing/tickets.js';

const POLICY: MatchPolicy = {
  ...DEFAULT_POLICY,
  interestsRequiredMs: 1_000,
  regionRequiredMs: 3_000,
  recentCount: 2,
  recentWindowMs: 10_000,
  smallPool: 2,
  relaxRecentAfterMs: 2_000,
};

let redis: Redis;
let other: Redis;
const { prefix, cleanup } = testPrefix();
let n = 0;

beforeAll(() => {
  redis = connectRedis();
  other = connectRedis();
});
afterAll(async () => {
  await cleanup(redis);
  redis.disconnect();
  other.disconnect();
});

/** Each test gets an empty pool: a fresh Redis prefix, or a new in-process pool. */
const stores: Array<[string, (limits?: { scanLimit: number; pageSize: number }) => WaitingPool]> = [
  ['in-process', (limits) => (limits ? new MemoryPool(POLICY, limits.scanLimit, limits.pageSize) : new MemoryPool(POLICY))],
  ['redis', (limits) => new RedisPool({ redis, prefix: `${prefix}${++n}:`, policy: POLICY, ...limits })],
];

/** The pair a match found; a claim lost to another node ('retry') found nobody this time. */
const pairOf = (r: MatchResult): [Ticket, Ticket] | undefined => (r === 'retry' ? undefined : r);

/** One attempt on a pool nobody else is claiming from: it never loses a claim. */
async function matchOn(pool: WaitingPool, userId: string, now: number): Promise<[Ticket, Ticket] | undefined> {
  const r = await pool.matchFor(userId, now);
  expect(r).not.toBe('retry');
  return pairOf(r);
}

/** The counts after a refresh (a shared pool's counts are a snapshot). */
async function counts(pool: WaitingPool) {
  await pool.refresh();
  return pool;
}

describe.each(stores)('pool contract: %s', (_name, make) => {
  it('pairs the longest-waiting compatible people and removes both', async () => {
    const pool = make();
    await pool.enqueue(ticket('a', { joinedAt: 1 }));
    await pool.enqueue(ticket('b', { joinedAt: 2 }));
    await pool.enqueue(ticket('c', { joinedAt: 3 }));
    expect((await matchOn(pool, 'c', 10))?.map((t) => t.userId)).toEqual(['a', 'c']);
    expect([await pool.has('a'), await pool.has('b'), await pool.has('c'), (await counts(pool)).size]).toEqual([false, true, false, 1]);
    expect(await matchOn(pool, 'b', 10)).toBeUndefined();
  });

  it('ranks shared interests, keeps modes and languages apart, and honours blocks', async () => {
    const pool = make();
    await pool.enqueue(ticket('old', { joinedAt: 1, interests: ['chess'] }));
    await pool.enqueue(ticket('fan', { joinedAt: 2, interests: ['chess', 'go'] }));
    await pool.enqueue(ticket('fr', { joinedAt: 0, language: 'fr', interests: ['chess', 'go'] }));
    await pool.enqueue(ticket('new', { joinedAt: 3, interests: ['chess', 'go'], blocked: new Set(['nobody']) }));
    expect((await matchOn(pool, 'new', 4))?.map((t) => t.userId)).toEqual(['fan', 'new']);
    await pool.enqueue(ticket('hater', { joinedAt: 5, interests: ['chess'], blocked: new Set(['old']) }));
    expect(await matchOn(pool, 'hater', 6)).toBeUndefined();
    expect((await counts(pool)).poolSize('chat', 'en')).toBe(2);
    expect(pool.poolSize('chat', 'fr')).toBe(1);
    expect(pool.poolSize('advice', 'en')).toBe(0);
  });

  it('never hands one person to two attempts in flight at once', async () => {
    const pool = make();
    await pool.enqueue(ticket('a', { joinedAt: 1 }));
    await pool.enqueue(ticket('b', { joinedAt: 2 }));
    await pool.enqueue(ticket('c', { joinedAt: 3 }));
    // Both start before either answers (the lobby's in-flight claims).
    const results = await Promise.all([pool.matchFor('b', 10), pool.matchFor('c', 10)]);
    const matched = results.map(pairOf).flatMap((p) => p?.map((t) => t.userId) ?? []);
    expect(matched).toHaveLength(2);
    expect(new Set(matched).size).toBe(2);
    expect((await counts(pool)).size).toBe(1);
  });

  it('keeps one entry per person; a re-join keeps its place and wait', async () => {
    const pool = make();
    await pool.enqueue(ticket('a', { joinedAt: 1, interests: ['x'] }));
    await pool.enqueue(ticket('b', { joinedAt: 2 }));
    await pool.enqueue(ticket('a', { joinedAt: 9, interests: ['y'] }));
    expect((await counts(pool)).size).toBe(2);
    expect((await pool.get('a'))?.joinedAt).toBe(1);
    expect((await pool.get('a'))?.interests).toEqual(['y']);
    expect((await counts(pool)).topInterests(5)).toEqual([{ tag: 'y', count: 1 }]);
    expect(await pool.remove('a')).toBe(true);
    expect(await pool.remove('a')).toBe(false);
    expect((await counts(pool)).topInterests(5)).toEqual([]);
  });

  it("shares one scan budget among a person's interests: at most ⌈scanLimit / k⌉ of each of k indexes", async () => {
    const fill = async (pool: WaitingPool) => {
      // The oldest of each index turns the seeker down (they require a region the seeker has not given).
      await pool.enqueue(ticket('a', { joinedAt: 1, interests: ['chess'], region: 'eu' }));
      await pool.enqueue(ticket('b', { joinedAt: 2, interests: ['chess'] }));
      await pool.enqueue(ticket('c', { joinedAt: 3, interests: ['music'], region: 'eu' }));
      await pool.enqueue(ticket('d', { joinedAt: 4, interests: ['music'] }));
      await pool.enqueue(ticket('s', { joinedAt: 5, interests: ['chess', 'music'] }));
      await pool.enqueue(ticket('one', { joinedAt: 6, interests: ['chess'] }));
      return pool;
    };
    // Two positions in all: the first of each of s's two indexes, and nobody there will do.
    const two = await fill(make({ scanLimit: 2, pageSize: 1 }));
    expect(await matchOn(two, 's', 7)).toBeUndefined();
    // With one interest, the same budget reads two positions of that one index.
    expect((await matchOn(two, 'one', 7))?.map((t) => t.userId)).toEqual(['b', 'one']);
    // Four positions in all: two of each index.
    const four = await fill(make({ scanLimit: 4, pageSize: 1 }));
    expect((await matchOn(four, 's', 7))?.map((t) => t.userId)).toEqual(['b', 's']);
    // Three positions between two indexes round up: two of each, not one.
    const three = await fill(make({ scanLimit: 3, pageSize: 1 }));
    expect((await matchOn(three, 's', 7))?.map((t) => t.userId)).toEqual(['b', 's']);
  });

  it('holds every invariant over random sequences of joins, leaves and match attempts', async () => {
    const ids = ['u0', 'u1', 'u2', 'u3', 'u4', 'u5'];
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('join' as const),
        id: fc.constantFrom(...ids),
        interests: fc.subarray(['chess', 'music', 'art']),
        region: fc.constantFrom(undefined, 'eu', 'us'),
        language: fc.constantFrom('en', 'en', 'fr'),
        blocks: fc.subarray(ids),
        recent: fc.subarray(ids, { maxLength: 2 }),
      }),
      fc.record({ kind: fc.constant('leave' as const), id: fc.constantFrom(...ids) }),
      fc.record({ kind: fc.constant('match' as const), id: fc.constantFrom(...ids) }),
      fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 1, max: 2_500 }) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 40 }), async (ops) => {
        const pool = make();
        const model = new Map<string, Ticket>();
        let now = 0;
        for (const o of ops) {
          if (o.kind === 'wait') now += o.ms;
          else if (o.kind === 'join') {
            const t = ticket(o.id, {
              joinedAt: now,
              interests: o.interests,
              region: o.region,
              language: o.language,
              blocked: new Set(o.blocks.filter((b) => b !== o.id)),
              recent: o.recent.filter((r) => r !== o.id).map((userId) => ({ userId, at: now })),
            });
            await pool.enqueue(t);
            model.set(o.id, { ...t, joinedAt: model.get(o.id)?.joinedAt ?? now });
          } else if (o.kind === 'leave') {
            expect(await pool.remove(o.id)).toBe(model.delete(o.id));
          } else {
            const pair = await matchOn(pool, o.id, now);
            const self = model.get(o.id);
            if (!self) {
              expect(pair).toBeUndefined();
              continue;
            }
            const size = [...model.values()].filter((t) => t.mode === self.mode && t.language === self.language).length;
            if (pair) {
              const [x, y] = pair;
              expect([x.userId, y.userId]).toContain(o.id);
              const partner = model.get(x.userId === o.id ? y.userId : x.userId)!;
              expect(partner, 'matched someone not waiting').toBeDefined();
              expect(compatible(self, partner, now, POLICY, size), 'matched an incompatible pair').toBe(true);
              expect(x.joinedAt).toBeLessThanOrEqual(y.joinedAt);
              model.delete(x.userId);
              model.delete(y.userId);
            } else {
              // Nobody compatible was waiting: a wait is never longer than it has to be.
              const anyone = [...model.values()].some((t) => compatible(self, t, now, POLICY, size));
              expect(anyone, `no match for ${o.id} although a compatible partner waits`).toBe(false);
            }
          }
          expect((await counts(pool)).size).toBe(model.size);
        }
        for (const id of ids) expect(await pool.has(id)).toBe(model.has(id));
      }),
      { numRuns: 60 },
    );
  });
});

describe('two engines racing on one Redis', () => {
  it('never hands one person to two partners', async () => {
    const shared = `${prefix}race:`;
    const nodeA = new RedisPool({ redis, prefix: shared, policy: POLICY });
    const nodeB = new RedisPool({ redis: other, prefix: shared, policy: POLICY });
    const people = Array.from({ length: 200 }, (_, i) => ticket(`p${i}`, { joinedAt: i, interests: i % 3 === 0 ? ['chess'] : [] }));
    await Promise.all(people.map((t) => nodeA.enqueue(t)));
    // Both nodes try to match everyone at once, each in its own order.
    const attempts = people.flatMap((t, i) => [
      nodeA.matchFor(t.userId, 60_000),
      nodeB.matchFor(people[people.length - 1 - i]!.userId, 60_000),
    ]);
    const pairs = (await Promise.all(attempts)).map(pairOf).filter((p): p is [Ticket, Ticket] => p !== undefined);
    // Claims lost in the stampede are retried a few times, then left for the next event; settle
    // those one by one, as widening timers and new arrivals would.
    for (const t of people) {
      const pair = pairOf(await (t.joinedAt % 2 ? nodeA : nodeB).matchFor(t.userId, 60_000));
      if (pair) pairs.push(pair);
    }
    const matched = pairs.flatMap(([x, y]) => [x.userId, y.userId]);
    expect(new Set(matched).size, 'someone was matched twice').toBe(matched.length);
    expect(matched.length).toBe(people.length); // everyone is compatible by now: nobody left over
    expect((await counts(nodeA)).size).toBe(0);
  });

  it('holds every invariant over random pools and random interleavings of two racing engines', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            interests: fc.subarray(['chess', 'music', 'art']),
            language: fc.constantFrom('en', 'en', 'fr'),
            blocks: fc.array(fc.nat(19), { maxLength: 3 }),
            joinedAt: fc.nat(5_000),
          }),
          { minLength: 2, maxLength: 20 },
        ),
        fc.array(fc.tuple(fc.nat(19), fc.boolean()), { minLength: 1, maxLength: 40 }),
        fc.nat(20_000),
        async (people, attempts, now) => {
          const shared = `${prefix}prop${run++}:`;
          const nodes = [
            new RedisPool({ redis, prefix: shared, policy: POLICY }),
            new RedisPool({ redis: other, prefix: shared, policy: POLICY }),
          ];
          const tickets = people.map((p, i) =>
            ticket(`p${i}`, {
              interests: p.interests,
              language: p.language,
              joinedAt: p.joinedAt,
              blocked: new Set(p.blocks.filter((b) => b !== i && b < people.length).map((b) => `p${b}`)),
            }),
          );
          await Promise.all(tickets.map((t) => nodes[0]!.enqueue(t)));
          // Every attempt starts at once, on either node: the claims race for real.
          const results = await Promise.all(
            attempts.filter(([i]) => i < people.length).map(([i, onB]) => nodes[onB ? 1 : 0]!.matchFor(`p${i}`, now)),
          );
          const pairs = results.map(pairOf).filter((r): r is [Ticket, Ticket] => r !== undefined);
          const matched = pairs.flatMap(([x, y]) => [x.userId, y.userId]);
          expect(new Set(matched).size, 'someone matched twice').toBe(matched.length);
          const size = (t: Ticket) => tickets.filter((o) => o.mode === t.mode && o.language === t.language).length;
          for (const [x, y] of pairs) {
            const tx = tickets.find((t) => t.userId === x.userId)!;
            const ty = tickets.find((t) => t.userId === y.userId)!;
            // Compatible by the rules as they stood (pool sizes only shrink, so check both extremes).
            expect(compatible(tx, ty, now, POLICY, size(tx)) || compatible(tx, ty, now, POLICY, 2), `${x.userId}+${y.userId}`).toBe(true);
          }
          for (const t of tickets) expect(await nodes[1]!.has(t.userId)).toBe(!matched.includes(t.userId));
          expect((await counts(nodes[0]!)).size).toBe(tickets.length - matched.length);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('drops the entries of a node that stopped renewing them', async () => {
    const pool = new RedisPool({ redis, prefix: `${prefix}lease:`, policy: POLICY, leaseMs: 10_000 });
    await pool.enqueue(ticket('alive'), 0);
    await pool.enqueue(ticket('crashed'), 0);
    await pool.renew(['alive'], 8_000);
    expect(await pool.sweep(12_000)).toBe(1);
    expect([await pool.has('alive'), await pool.has('crashed')]).toEqual([true, false]);
    expect(await pool.sweep(18_001)).toBe(1);
    expect((await counts(pool)).size).toBe(0);
  });
});

describe('the Redis pool decides as the in-process pool does', () => {
  it('finds the same partner as the in-process pool over random sequences and search limits (the Lua search mirrors search.ts and rules.ts)', async () => {
    const ids = ['u0', 'u1', 'u2', 'u3', 'u4', 'u5', 'u6', 'u7'];
    let matches = 0;
    const rarely = fc.oneof({ arbitrary: fc.constant(false), weight: 5 }, { arbitrary: fc.constant(true), weight: 1 });
    const op = fc.oneof(
      {
        weight: 4,
        arbitrary: fc.record({
          kind: fc.constant('join' as const),
          id: fc.constantFrom(...ids),
          interests: fc.oneof(fc.constant([]), fc.subarray(['chess', 'music', 'art', 'go'], { maxLength: 3 })),
          region: fc.constantFrom(undefined, undefined, 'eu', 'us'),
          blocks: fc.subarray(ids, { maxLength: 1 }),
          recent: fc.array(fc.tuple(fc.constantFrom(...ids), fc.integer({ min: 0, max: 15_000 })), { maxLength: 3 }),
          flags: fc.record({ held: rarely, verified: fc.boolean(), verifiedOnly: rarely }),
        }),
      },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('leave' as const), id: fc.constantFrom(...ids) }) },
      { weight: 4, arbitrary: fc.record({ kind: fc.constant('match' as const), id: fc.constantFrom(...ids) }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 1, max: 2_500 }) }) },
    );
    // A join is followed at once by a search for the person as often as not.
    const step = fc.tuple(op, fc.boolean());
    // Small search limits too, so that the scan budget (shared by a person's interests) binds.
    const limits = fc.oneof(
      fc.constant(undefined),
      fc.record({ scanLimit: fc.integer({ min: 1, max: 8 }), pageSize: fc.integer({ min: 1, max: 3 }) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 20, maxLength: 60 }), limits, async (steps, bounds) => {
        const memory = bounds ? new MemoryPool(POLICY, bounds.scanLimit, bounds.pageSize) : new MemoryPool(POLICY);
        const shared = new RedisPool({ redis, prefix: `${prefix}same${++n}:`, policy: POLICY, ...bounds });
        const firstInterests = new Map<string, readonly string[]>();
        let now = 0;
        const same = (m: MatchResult, r: MatchResult, what: string) => {
          expect(r).not.toBe('retry');
          if (m) matches += 1;
          const names = (x: MatchResult) => pairOf(x)?.map((t) => t.userId);
          expect(names(r), what).toEqual(names(m));
          if (m && m !== 'retry') expect(pairOf(r)).toEqual(m);
        };
        for (const [o, entering] of steps) {
          if (o.kind === 'wait') now += o.ms;
          else if (o.kind === 'join') {
            // Distinct join times and one mode and language per person: the two pools then order
            // every index alike (joinedAt in Redis, arrival in process; a re-join into another
            // bucket keeps its wait in both, but in process it queues at that bucket's end).
            // Likewise a re-join keeps the first interests: a tag added on a re-join joins that
            // tag's index at its end in process, at its wait in Redis.
            now += 1;
            const k = Number(o.id.slice(1));
            const interests = firstInterests.get(o.id) ?? o.interests;
            firstInterests.set(o.id, interests);
            const t = ticket(o.id, {
              joinedAt: now,
              interests,
              region: o.region,
              mode: k % 4 === 1 ? 'advice' : 'chat',
              language: k % 3 === 0 ? 'fr' : 'en',
              blocked: new Set(o.blocks.filter((b) => b !== o.id)),
              recent: o.recent
                .filter(([r]) => r !== o.id)
                .map(([userId, ago]) => ({ userId, at: now - ago }))
                .sort((x, y) => x.at - y.at),
              ...(o.flags.held ? { held: true } : {}),
              ...(o.flags.verified ? { verified: true } : {}),
              ...(o.flags.verifiedOnly ? { verifiedOnly: true } : {}),
            });
            if (entering) {
              // Asked in the same turn, the Redis pool sends the two as one script (ENTER).
              const enter = (pool: WaitingPool) => Promise.all([pool.enqueue(t), pool.matchFor(t.userId, now)]).then(([, r]) => r);
              same(await enter(memory), await enter(shared), `${o.id} entering at ${now}`);
            } else await Promise.all([memory.enqueue(t), shared.enqueue(t)]);
          } else if (o.kind === 'leave') {
            expect(await shared.remove(o.id)).toBe(await memory.remove(o.id));
          } else {
            same(await memory.matchFor(o.id, now), await shared.matchFor(o.id, now), `match for ${o.id} at ${now}`);
          }
        }
        for (const id of ids) expect(await shared.get(id)).toEqual(await memory.get(id));
      }),
      { numRuns: 250 },
    );
    expect(matches, 'the sequences exercise matching').toBeGreaterThan(100);
  });

  it('keeps every fact of a ticket through its compact record', async () => {
    const pool = new RedisPool({ redis, prefix: `${prefix}record:`, policy: POLICY });
    const full = ticket('a', {
      joinedAt: 1_700_000_000_123,
      region: '',
      interests: ['chess', 'go'],
      blocked: new Set(['b', 'c']),
      recent: [
        { userId: 'b', at: 5 },
        { userId: 'd', at: 7.5 },
      ],
      node: 'node-1',
      held: true,
      verified: true,
      verifiedOnly: true,
    });
    await pool.enqueue(full);
    expect(await pool.get('a')).toEqual(full);
    await pool.enqueue(ticket('e', { region: 'eu' }));
    expect(await pool.get('e')).toEqual(ticket('e', { region: 'eu' }));
    await expect(pool.enqueue(ticket('x\u001f'))).rejects.toThrow(/cannot contain/);
    await expect(new MemoryPool(POLICY).enqueue(ticket('x', { blocked: new Set(['y\u001e']) }))).rejects.toThrow(/cannot contain/);
    for (const pool of [new MemoryPool(POLICY), new RedisPool({ redis, prefix: `${prefix}record:`, policy: POLICY })]) {
      await expect(pool.enqueue(ticket('x', { interests: ['a,b'] }))).rejects.toThrow(/commas/);
      await expect(pool.enqueue(ticket('x', { interests: [''] }))).rejects.toThrow(/empty/);
      await expect(pool.enqueue(ticket('x', { interests: ['a\u001d'] }))).rejects.toThrow(/cannot contain/);
      await expect(pool.enqueue(ticket('x', { region: 'e\u001fu' }))).rejects.toThrow(/cannot contain/);
      await expect(pool.enqueue(ticket('x', { recent: [{ userId: 'y\u001d', at: 1 }] }))).rejects.toThrow(/cannot contain/);
    }
  });

  it('drops a partner whose node went silent and matches the next one instead', async () => {
    const shared = `${prefix}ghost:`;
    const pool = new RedisPool({ redis, prefix: shared, policy: POLICY });
    await redis.set(`${shared}alive:here`, '1');
    await pool.enqueue(ticket('ghost', { joinedAt: 1, node: 'gone' }));
    await pool.enqueue(ticket('b', { joinedAt: 2, node: 'here' }));
    await pool.enqueue(ticket('c', { joinedAt: 3, node: 'here' }));
    expect((await matchOn(pool, 'c', 10))?.map((t) => t.userId)).toEqual(['b', 'c']);
    expect(await pool.has('ghost')).toBe(false);
  });
});

describe('the Redis pool after a change of layout', () => {
  it('takes out an index entry that has no record, where a search meets it, and matches past it', async () => {
    const shared = `${prefix}dangling:`;
    const pool = new RedisPool({ redis, prefix: shared, policy: POLICY });
    // What an older layout leaves: the person in the bucket's index, their record elsewhere.
    await redis.zadd(`${shared}q:chat:en`, 0, 'old');
    await pool.enqueue(ticket('b', { joinedAt: 2 }));
    await pool.enqueue(ticket('c', { joinedAt: 3 }));
    expect((await matchOn(pool, 'c', 10))?.map((t) => t.userId)).toEqual(['b', 'c']);
    expect(await redis.zscore(`${shared}q:chat:en`, 'old')).toBeNull();
  });
});

describe('Redis decisions never act on a stale read (no ABA)', () => {
  it('a person who left and came back is judged on the new entry', async () => {
    const shared = `${prefix}aba:`;
    const nodeA = new RedisPool({ redis, prefix: shared, policy: POLICY });
    const nodeB = new RedisPool({ redis: other, prefix: shared, policy: POLICY });
    await nodeA.enqueue(ticket('self', { joinedAt: 1 }));
    await nodeA.enqueue(ticket('x', { joinedAt: 2 }));
    // While node A's decision for self is on its way, x leaves and comes back having blocked self.
    const decision = nodeA.matchFor('self', 10);
    await nodeB.remove('x');
    await nodeB.enqueue(ticket('x', { joinedAt: 5, blocked: new Set(['self']) }));
    // Whichever ran first, self is never paired with the x that blocked them.
    const pair = pairOf(await decision);
    if (pair) expect(pair.map((t) => t.userId)).toEqual(['self', 'x']);
    if (pair)
      expect(await nodeB.has('x')).toBe(true); // the first x was taken; the new one waits
    else expect(await nodeB.has('self')).toBe(true);
    expect(pairOf(await nodeA.matchFor('self', 20))).toBeUndefined();
  });
});
