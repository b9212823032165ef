import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it, vi } from 'vitest';
import { TurnBatch } from './batch.js';

describe('TurnBatch', () => {
  it('runs what arrives in one turn together, in arrival order, split at the maximum', async () => {
    const runs: number[][] = [];
    const batch = new TurnBatch<number>(async (items) => void runs.push(items), { max: 4 });
    await Promise.all([1, 2, 3, 4, 5, 6].map((n) => batch.add(n)));
    await batch.add(7);
    expect(runs).toEqual([[1, 2, 3, 4], [5, 6], [7]]);
  });

  it('writes a batch over the maximum a part at a time, letting the event loop in between parts', async () => {
    const events: string[] = [];
    const batch = new TurnBatch<number>(async (items) => void events.push(items.join()), { max: 2 });
    const all = Promise.all([1, 2, 3, 4, 5].map((n) => batch.add(n)));
    setImmediate(() => events.push('tick')); // queued behind the batch's own start
    await all;
    expect(events).toEqual(['1,2', 'tick', '3,4', '5']);
  });

  it('fails every item of a failed batch, and the next batch starts afresh', async () => {
    let fail = true;
    const batch = new TurnBatch<string>(async () => {
      if (fail) throw new Error('disk full');
    });
    const first = [batch.add('a'), batch.add('b')];
    for (const p of first) await expect(p).rejects.toThrow('disk full');
    fail = false;
    await expect(batch.add('c')).resolves.toBeUndefined();
  });

  it('with a window, waits that long after the first item; flush() runs it at once and only once', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const runs: string[][] = [];
      const batch = new TurnBatch<string>(async (items) => void runs.push(items), { windowMs: 1000 });
      const a = batch.add('a');
      await nextTurn();
      const b = batch.add('b');
      expect(runs).toEqual([]);
      vi.advanceTimersByTime(999);
      expect(runs).toEqual([]);
      vi.advanceTimersByTime(1);
      await Promise.all([a, b]);
      expect(runs).toEqual([['a', 'b']]);

      const c = batch.add('c');
      batch.flush();
      await c;
      vi.advanceTimersByTime(5000);
      expect(runs).toEqual([['a', 'b'], ['c']]);
    } finally {
      vi.useRealTimers();
    }
  });
});
