/**
 * Diagnostic for docs/benchmarks.md: the cost of MemoryPool.matchFor when the pool is used as a FIFO
 * at a steady size. Every match deletes the oldest entries of a bucket's insertion-ordered Map; V8
 * leaves deleted slots in place until the table is rehashed, and iterating from the front (which
 * `take(bucket.order.values(), scanLimit)` does) walks over all of them. With a scan limit of 8 the
 * rule checks cost almost nothing, so what remains is mostly that walk.
 *
 *   npx tsx bench/map-holes.ts
 */
import { MemoryPool } from '../packages/server/src/matchmaking/memoryPool.js';
import { DEFAULT_POLICY, type Ticket } from '../packages/server/src/matchmaking/rules.js';
import { median, out, table } from './lib/stats.js';

const t = (userId: string, joinedAt: number): Ticket => ({
  userId,
  mode: 'chat',
  language: 'en',
  region: undefined,
  interests: [],
  joinedAt,
  blocked: new Set(),
  recent: [],
});

const rows: string[][] = [];
for (const [scanLimit, size] of [
  [512, 100_000],
  [8, 100_000],
  [8, 1_000],
] as const) {
  const pool = new MemoryPool(DEFAULT_POLICY, scanLimit);
  for (let i = 0; i < size; i++) pool.enqueue(t(`p${i}`, i));
  let n = 0;
  const rounds: number[] = [];
  for (let round = 0; round < 10; round++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < 5_000; i++) {
      // A newcomer is matched with the oldest person; one more arrives so the size holds.
      const id = `n${n++}`;
      pool.enqueue(t(id, size + n));
      pool.matchFor(id, 10 * size + n);
      pool.enqueue(t(`r${n}`, size + n));
    }
    rounds.push(Number(process.hrtime.bigint() - t0) / 1000 / 5_000);
  }
  rows.push([
    String(scanLimit),
    size.toLocaleString('en-US'),
    median(rounds).toFixed(1),
    `${Math.min(...rounds).toFixed(1)}–${Math.max(...rounds).toFixed(1)}`,
  ]);
}
out(table(['scan limit', 'waiting', 'µs per arrival (2 enqueues + matchFor), median of 10 rounds', 'range'], rows));
