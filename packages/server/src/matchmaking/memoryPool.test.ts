import { describe, expect, it } from 'vitest';
import { MemoryPool } from './memoryPool.js';
import { DEFAULT_POLICY, type Ticket } from './rules.js';

const ticket = (userId: string, o: Partial<Ticket> = {}): Ticket => ({
  userId, mode: 'chat', language: 'en', region: undefined, interests: [], joinedAt: 0, blocked: new Set(), recent: [], ...o,
});

describe('MemoryPool', () => {
  it('pairs the longest-waiting compatible people and removes both', () => {
    const pool = new MemoryPool(DEFAULT_POLICY);
    pool.enqueue(ticket('a', { joinedAt: 1 }));
    pool.enqueue(ticket('b', { joinedAt: 2 }));
    pool.enqueue(ticket('c', { joinedAt: 3 }));
    expect(pool.matchFor('c', 10)?.map((t) => t.userId)).toEqual(['a', 'c']);
    expect([pool.has('a'), pool.has('b'), pool.has('c'), pool.size]).toEqual([false, true, false, 1]);
  });

  it('prefers more shared interests over a longer wait', () => {
    const pool = new MemoryPool(DEFAULT_POLICY);
    pool.enqueue(ticket('old', { joinedAt: 1, interests: ['chess'] }));
    pool.enqueue(ticket('fan', { joinedAt: 2, interests: ['chess', 'go'] }));
    pool.enqueue(ticket('new', { joinedAt: 3, interests: ['chess', 'go'] }));
    expect(pool.matchFor('new', 4)?.map((t) => t.userId)).toEqual(['fan', 'new']);
  });

  it('keeps one entry per person; a re-join keeps its place and wait, and may move bucket', () => {
    const pool = new MemoryPool(DEFAULT_POLICY);
    pool.enqueue(ticket('a', { joinedAt: 1, interests: ['x'] }));
    pool.enqueue(ticket('b', { joinedAt: 2 }));
    pool.enqueue(ticket('a', { joinedAt: 9, interests: ['y'] }));
    expect(pool.size).toBe(2);
    expect(pool.get('a')?.joinedAt).toBe(1);
    expect(pool.topInterests(5)).toEqual([{ tag: 'y', count: 1 }]);
    pool.enqueue(ticket('a', { joinedAt: 9, mode: 'advice' }));
    expect(pool.poolSize('chat', 'en')).toBe(1);
    expect(pool.poolSize('advice', 'en')).toBe(1);
    expect(pool.matchFor('b', 10)).toBeUndefined();
  });

  it('finds a compatible partner behind incompatible ones, within the scan bound', () => {
    const pool = new MemoryPool(DEFAULT_POLICY, 64);
    for (let i = 0; i < 50; i++) pool.enqueue(ticket(`blocked${i}`, { joinedAt: i }));
    pool.enqueue(ticket('ok', { joinedAt: 100 }));
    const blocked = new Set(Array.from({ length: 50 }, (_, i) => `blocked${i}`));
    pool.enqueue(ticket('me', { joinedAt: 200, blocked }));
    expect(pool.matchFor('me', 300)?.map((t) => t.userId)).toEqual(['ok', 'me']);
  });

  it('counts the most common interests among people waiting', () => {
    const pool = new MemoryPool(DEFAULT_POLICY);
    pool.enqueue(ticket('a', { interests: ['music', 'art'] }));
    pool.enqueue(ticket('b', { interests: ['music'] }));
    pool.enqueue(ticket('c', { interests: ['chess'] }));
    expect(pool.topInterests(2)).toEqual([{ tag: 'music', count: 2 }, { tag: 'art', count: 1 }]);
    pool.remove('a');
    expect(pool.topInterests(5)).toEqual([{ tag: 'chess', count: 1 }, { tag: 'music', count: 1 }]);
  });
});
