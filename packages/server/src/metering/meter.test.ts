import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallRecords } from '../calls/recorder.js';
import { Lobby } from '../lobby/lobby.js';
import { MemoryPool } from '../matchmaking/memoryPool.js';
import { DEFAULT_POLICY } from '../matchmaking/rules.js';
import { openStorage, type Storage } from '../storage/database.js';
import { FakeClock } from '../testing/fakeClock.js';
import { PendingWrites } from '../util/tasks.js';
import { Ledger, userAccount, type Posting, type PostResult } from './ledger.js';
import { Meter } from './meter.js';

/** A ledger whose postings take a while, as on a busy database: charges overlap heartbeats. */
class SlowLedger extends Ledger {
  override async post(p: Posting, now: number): Promise<PostResult> {
    await new Promise((r) => setTimeout(r, 15));
    return super.post(p, now);
  }
}

describe('meter', () => {
  let dir: string;
  let storage: Storage;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'duet-meter-'));
    storage = await openStorage({ dataDir: dir });
  });
  afterAll(async () => {
    await storage.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('never overcharges when charges are still being posted as new heartbeats arrive', async () => {
    const clock = new FakeClock();
    const log = pino({ level: 'silent' });
    const writes = new PendingWrites(log);
    const lobby = new Lobby({
      matchmaker: new MemoryPool(DEFAULT_POLICY),
      policy: DEFAULT_POLICY,
      clock,
      log,
      connectTimeoutMs: 15_000,
      send: () => undefined,
      iceServersFor: () => [],
      safety: { block: () => undefined, report: () => undefined },
    });
    const records = new CallRecords(lobby, storage, writes);
    const ledger = new SlowLedger(storage.db, storage.kind);
    const meter = new Meter({ lobby, ledger, db: storage.db, records, writes, clock, log, send: () => undefined, price: { perMinuteMicros: 600_000, rounding: 'second' }, heartbeatMs: 5_000, overdraftMicros: 0, maxCallMs: 3_600_000 });

    const [a, b] = [randomUUID(), randomUUID()];
    for (const u of [a, b]) {
      await storage.db.insertInto('users').values({ id: u, created_at: 0, rules_accepted_at: 0, rules_version: 1 }).execute();
      await ledger.post({ ref: `welcome:${u}`, kind: 'grant', entries: [{ account: 'grants', amount: -100_000_000 }, { account: userAccount(u), amount: 100_000_000 }] }, 0);
      lobby.connect(u, { rulesAccepted: true, blockedWith: new Set() });
      lobby.join(u);
    }
    const call = lobby.callOf(a)!;
    lobby.peerState(a, call.id, 'connected');
    lobby.peerState(b, call.id, 'connected');
    // A minute of heartbeats 2.5 s apart, alternating sides, far faster than postings complete.
    for (let i = 1; i <= 24; i++) {
      clock.advance(2_500);
      for (const u of i % 2 ? [a, b] : [b, a]) meter.heartbeat(u, { type: 'heartbeat', callId: call.id, seq: i, bytesReceived: i * 10_000 });
    }
    lobby.leave(a);
    await writes.flush();
    const row = await storage.db.selectFrom('calls').select('billed_ms').where('id', '=', call.id).executeTakeFirstOrThrow();
    const billedSeconds = Math.floor(Number(row.billed_ms) / 1000);
    const expected = Math.floor((billedSeconds * 600_000) / 60);
    for (const u of [a, b]) expect(100_000_000 - (await ledger.balance(userAccount(u)))).toBe(expected);
    expect(await ledger.unbalanced()).toEqual([]);
  });
});

