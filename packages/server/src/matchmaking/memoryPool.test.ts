import { describe, expect, it } from 'vitest';
import { MemoryPool } from './memoryPool.js';
import type { MatchResult } from './pool.js';
import { DEFAULT_POLICY, type Ticket } from './rules.js';

const ticket = (userId: string, o: Partial<Ticket> = {}): Ticket => ({
  userId,
  mode: 'chat',
  language: 'en',
  region: undefined,
  interests: [],
  joinedAt: 0,
  blocked: new Set(),
  recent: [],
  ...o,
});

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
