/**
 * Ledger postings per second on SQLite and on PostgreSQL: the charges a busy node posts (one per
 * person per heartbeat with media), each a balanced transaction with an idempotency ref and a
 * floor check, sequentially and with several postings in flight. `npm run bench:ledger`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Ledger, userAccount } from '../packages/server/src/metering/ledger.js';
import { openStorage, type Storage } from '../packages/server/src/storage/database.js';
import { createTestDatabase } from '../packages/server/src/testing/postgres.js';
import { arg, machine } from './lib/machine.js';
import { fmt, median, out, table } from './lib/stats.js';

const POSTINGS = Number(arg('postings', '4000'));
const RUNS = Number(arg('runs', '3'));
const USERS = 200;

async function run(storage: Storage, concurrency: number, round: number): Promise<number> {
  const ledger = new Ledger(storage.db, storage.kind);
  for (let u = 0; u < USERS; u++) {
    await ledger.post(
      {
        ref: `welcome:${round}:${concurrency}:${u}`,
        kind: 'grant',
        entries: [
          { account: 'grants', amount: -1e12 },
          { account: userAccount(`u${round}-${u}`), amount: 1e12 },
        ],
      },
      0,
    );
  }
  let next = 0;
  const started = process.hrtime.bigint();
  const worker = async () => {
    while (next < POSTINGS) {
      const i = next++;
      const user = userAccount(`u${round}-${i % USERS}`);
      const result = await ledger.post(
        {
          ref: `call:r${round}c${concurrency}:${i}`,
          kind: 'charge',
          entries: [
            { account: user, amount: -16_666 },
            { account: 'revenue', amount: 16_666 },
          ],
          floor: { account: user, min: 0 },
        },
        Date.now(),
      );
      if (result !== 'posted') throw new Error(`posting ${i}: ${result}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const unbalanced = await ledger.unbalanced();
  if (unbalanced.length > 0) throw new Error(`${unbalanced.length} unbalanced transactions`);
  return POSTINGS / seconds;
}

async function main() {
  out(`# ledger benchmark — ${machine()}`);
  const rows: string[][] = [];
  for (const kind of ['sqlite', 'postgres'] as const) {
    for (const concurrency of [1, 8]) {
      const rates: number[] = [];
      for (let r = 0; r < RUNS; r++) {
        const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'duet-bench-ledger-'));
        const pg = kind === 'postgres' ? await createTestDatabase() : undefined;
        const storage = await openStorage(pg ? { dataDir, databaseUrl: pg.url } : { dataDir });
        try {
          rates.push(await run(storage, concurrency, r));
        } finally {
          await storage.close();
          await pg?.drop();
          fs.rmSync(dataDir, { recursive: true, force: true });
        }
      }
      out(`${kind} ×${concurrency}: ${rates.map((x) => fmt(x)).join(' / ')} postings/s`);
      rows.push([kind, String(concurrency), fmt(median(rates)), rates.map((x) => fmt(x)).join(' / ')]);
    }
  }
  out();
  out(`Medians over ${RUNS} runs of ${POSTINGS} postings (each a balanced charge with a floor check and a unique ref):`);
  out();
  out(table(['store', 'in flight', 'postings/s (median)', 'runs'], rows));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
