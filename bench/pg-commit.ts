/**
 * What a commit costs on this machine's PostgreSQL, with and without waiting for the disk: single-row
 * INSERTs, each its own transaction (as Duet's call records, funnel steps and sessions are), from one
 * connection and from ten (Duet's pool), with `synchronous_commit` on and off, alternated over
 * --runs sittings. The floor for "how many writes a second can a node make" (docs/benchmarks.md).
 *
 *   npx tsx bench/pg-commit.ts [--rows=2000] [--runs=3] [--url=postgres://postgres@127.0.0.1:5432/test]
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { arg, machine } from './lib/machine.js';
import { fmt, median, out, table } from './lib/stats.js';

const ROWS = Number(arg('rows', '2000'));
const RUNS = Number(arg('runs', '3'));
const URL = arg('url', 'postgres://postgres@127.0.0.1:5432/test');
const TABLE = `bench_commit_${randomBytes(4).toString('hex')}`;

async function commitsPerSecond(synchronous: 'on' | 'off', connections: number): Promise<number> {
  const pool = new pg.Pool({ connectionString: URL, max: connections, options: `-c synchronous_commit=${synchronous}` });
  try {
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: connections }, async () => {
        while (next++ < ROWS) await pool.query(`INSERT INTO ${TABLE} (v) VALUES ($1)`, ['x']);
      }),
    );
    return ROWS / ((performance.now() - started) / 1000);
  } finally {
    await pool.end();
  }
}

const admin = new pg.Pool({ connectionString: URL, max: 1 });
await admin.query(`CREATE TABLE ${TABLE} (id bigserial PRIMARY KEY, v text)`);
try {
  out(`# bench:pg-commit — ${machine()}; ${ROWS} single-row INSERTs per cell, ${RUNS} runs`);
  const cells = new Map<string, number[]>();
  for (let run = 0; run < RUNS; run++) {
    for (const synchronous of ['on', 'off'] as const) {
      for (const connections of [1, 10]) {
        const key = `${synchronous}|${connections}`;
        cells.set(key, [...(cells.get(key) ?? []), await commitsPerSecond(synchronous, connections)]);
      }
    }
  }
  const rate = (s: string, c: number) => median(cells.get(`${s}|${c}`)!);
  const runs = (s: string, c: number) =>
    cells
      .get(`${s}|${c}`)!
      .map((x) => fmt(x))
      .join(' / ');
  out(
    table(
      ['connections', 'synchronous_commit=on: commits/s, median (runs)', 'off: commits/s, median (runs)', 'off / on'],
      [1, 10].map((c) => [
        String(c),
        `${fmt(rate('on', c))} (${runs('on', c)})`,
        `${fmt(rate('off', c))} (${runs('off', c)})`,
        `${fmt(rate('off', c) / rate('on', c), 1)}×`,
      ]),
    ),
  );
} finally {
  await admin.query(`DROP TABLE ${TABLE}`);
  await admin.end();
}
