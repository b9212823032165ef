import { describe, expect, it } from 'vitest';
import { FairQueue } from './fairQueue.js';

/** A job that runs until the test releases it, recording when it started. */
function gate(log: string[], name: string) {
  let release!: () => void;
  const done = new Promise<void>((r) => (release = r));
  return { run: () => (log.push(name), done.then(() => name)), release };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('the detector queue', () => {
  it('holds one job per person and a few per address, and refuses the rest with a wait', () => {
    const q = new FairQueue({ perAddress: 2, capacity: 3 });
    const log: string[] = [];
    expect(q.enter('ann', 'A', gate(log, 'ann').run).ok).toBe(true);
    expect(q.enter('ann', 'A', gate(log, 'ann2').run)).toMatchObject({ ok: false, reason: 'person_busy' });
    expect(q.enter('bob', 'A', gate(log, 'bob').run).ok).toBe(true);
    const third = q.enter('cat', 'A', gate(log, 'cat').run);
    expect(third).toMatchObject({ ok: false, reason: 'address_busy' });
    expect(!third.ok && third.retryAfterMs).toBeGreaterThan(0);
    expect(q.enter('dan', 'B', gate(log, 'dan').run).ok).toBe(true);
    expect(q.enter('eve', 'C', gate(log, 'eve').run)).toMatchObject({ ok: false, reason: 'full' });
    expect(q.size).toBe(3);
  });

  it('takes addresses in turn: an address with many waiting cannot starve another', async () => {
    const q = new FairQueue({ perAddress: 5, capacity: 20 });
    const log: string[] = [];
    const jobs = ['a1', 'a2', 'a3', 'a4', 'a5'].map((n) => ({ n, g: gate(log, n) }));
    const done = jobs.map(({ n, g }) => {
      const admitted = q.enter(n, 'A', g.run);
      if (!admitted.ok) throw new Error('refused');
      return admitted.done;
    });
    // Another address arrives once A already has five waiting.
    const b = gate(log, 'b1');
    const bDone = q.enter('b1', 'B', b.run);
    if (!bDone.ok) throw new Error('refused');
    for (const { g } of jobs) {
      g.release();
      await tick();
    }
    b.release();
    await Promise.all([...done, bDone.done]);
    // b1 runs right after the job that was running when it came, not after all of A's.
    expect(log).toEqual(['a1', 'b1', 'a2', 'a3', 'a4', 'a5']);
    expect(q.size).toBe(0);
  });

  it('frees the slot of a job that fails', async () => {
    const q = new FairQueue();
    const failed = q.enter('ann', 'A', () => Promise.reject(new Error('detector crashed')));
    if (!failed.ok) throw new Error('refused');
    await expect(failed.done).rejects.toThrow('detector crashed');
    await tick();
    expect(q.enter('ann', 'A', () => Promise.resolve(1)).ok).toBe(true);
  });
});
