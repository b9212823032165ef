import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStorage, type Storage } from '../storage/database.js';
import { createTestDatabase } from '../testing/postgres.js';
import { Ledger, userAccount } from './ledger.js';

const backends: Array<[string, () => Promise<{ storage: Storage; cleanup: () => Promise<void> }>]> = [
  [
    'sqlite',
    async () => {
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'duet-ledger-'));
      return { storage: await openStorage({ dataDir }), cleanup: async () => fs.rmSync(dataDir, { recursive: true, force: true }) };
    },
  ],
  [
    'postgres',
    async () => {
      const db = await createTestDatabase();
      return { storage: await openStorage({ dataDir: os.tmpdir(), databaseUrl: db.url }), cleanup: db.drop };
    },
  ],
];

describe.each(backends)('ledger on %s', (_kind, make) => {
  let storage: Storage;
  let cleanup: () => Promise<void>;
  let ledger: Ledger;
  beforeAll(async () => {
    ({ storage, cleanup } = await make());
    ledger = new Ledger(storage.db, storage.kind);
  });
  afterAll(async () => {
    await storage?.close();
    await cleanup?.();
  });

  const grant = (user: string, amount: number, ref: string) =>
    ledger.post(
      {
        ref,
        kind: 'grant',
        entries: [
          { account: 'grants', amount: -amount },
          { account: userAccount(user), amount },
        ],
      },
      1,
    );
  const charge = (user: string, amount: number, ref: string, floor = 0) =>
    ledger.post(
      {
        ref,
        kind: 'charge',
        entries: [
          { account: userAccount(user), amount: -amount },
          { account: 'revenue', amount },
        ],
        floor: { account: userAccount(user), min: floor },
      },
      2,
    );

  it('derives balances from entries and posts each ref once', async () => {
    expect(await grant('u1', 5_000_000, 'welcome:u1')).toBe('posted');
    expect(await grant('u1', 5_000_000, 'welcome:u1')).toBe('duplicate');
    expect(await charge('u1', 1_500_000, 'call:c1:u1:90')).toBe('posted');
    expect(await charge('u1', 1_500_000, 'call:c1:u1:90')).toBe('duplicate');
    expect(await ledger.balance(userAccount('u1'))).toBe(3_500_000);
    expect(await ledger.balance('revenue')).toBe(1_500_000);
    expect(await ledger.balance('grants')).toBe(-5_000_000);
    expect(await ledger.sumByRef(userAccount('u1'), 'call:c1:')).toBe(-1_500_000);
    expect((await ledger.history(userAccount('u1'))).map((h) => h.amount).sort()).toEqual([-1_500_000, 5_000_000].sort());
    expect(await ledger.unbalanced()).toEqual([]);
  });

  it('refuses transactions that do not balance, or take an account below its floor', async () => {
    await expect(
      ledger.post(
        {
          ref: 'bad',
          kind: 'charge',
          entries: [
            { account: 'a', amount: 1 },
            { account: 'b', amount: 0 },
          ],
        },
        1,
      ),
    ).rejects.toThrow('does not balance');
    await grant('u2', 1_000_000, 'welcome:u2');
    expect(await charge('u2', 2_000_000, 'call:x:u2:1')).toBe('insufficient');
    expect(await ledger.balance(userAccount('u2'))).toBe(1_000_000);
  });

  it('never lets concurrent charges overdraw an account', async () => {
    await grant('u3', 10_000_000, 'welcome:u3');
    const results = await Promise.all(Array.from({ length: 25 }, (_, i) => charge('u3', 1_000_000, `call:race:u3:${i}`)));
    expect(results.filter((r) => r === 'posted')).toHaveLength(10);
    expect(await ledger.balance(userAccount('u3'))).toBe(0);
    // The same ref posted concurrently lands once.
    await grant('u4', 5_000_000, 'welcome:u4');
    const same = await Promise.all(Array.from({ length: 10 }, () => charge('u4', 1_000_000, 'call:dup:u4:1')));
    expect(same.filter((r) => r === 'posted')).toHaveLength(1);
    expect(await ledger.balance(userAccount('u4'))).toBe(4_000_000);
  });
});
