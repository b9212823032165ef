import { describe, expect, it } from 'vitest';
import { FifoQueue } from './fifoQueue.js';

const entry = (userId: string, joinedAt = 0) => ({ userId, interests: [], joinedAt });

describe('FifoQueue', () => {
  it('pairs in arrival order and keeps one entry per person', () => {
    const q = new FifoQueue();
    q.enqueue(entry('a', 1));
    q.enqueue(entry('b', 2));
    q.enqueue(entry('a', 3)); // a re-join keeps a's place and original wait
    q.enqueue(entry('c', 4));
    expect(q.size).toBe(3);
    const pairs = q.takePairs(() => true);
    expect(pairs.map(([x, y]) => [x.userId, y.userId])).toEqual([['a', 'b']]);
    expect(pairs[0]![0].joinedAt).toBe(1);
    expect(q.has('c')).toBe(true);
    expect(q.size).toBe(1);
  });

  it('skips pairs the predicate forbids without losing anyone', () => {
    const q = new FifoQueue();
    for (const id of ['a', 'b', 'c', 'd']) q.enqueue(entry(id));
    const pairs = q.takePairs((x, y) => !(x.userId === 'a' && y.userId === 'b'));
    expect(pairs.map(([x, y]) => x.userId + y.userId)).toEqual(['ac', 'bd']);
    expect(q.size).toBe(0);
  });

  it('removes exactly the person asked for', () => {
    const q = new FifoQueue();
    for (const id of ['a', 'b', 'c']) q.enqueue(entry(id));
    expect(q.remove('b')).toBe(true);
    expect(q.remove('b')).toBe(false);
    expect([q.has('a'), q.has('b'), q.has('c')]).toEqual([true, false, true]);
  });
});
