import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Fastify from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallRecords } from '../calls/recorder.js';
import { loadConfig } from '../config.js';
import { TokenIssuer } from '../identity/tokens.js';
import { Lobby } from '../lobby/lobby.js';
import { wireRecordsAndMeter } from '../testing/lifecycle.js';
import { MemoryPool } from '../matchmaking/memoryPool.js';
import { DEFAULT_POLICY } from '../matchmaking/rules.js';
import { openStorage, type Storage } from '../storage/database.js';
import { FakeClock } from '../testing/fakeClock.js';
import { PendingWrites } from '../util/tasks.js';
import { Ledger, userAccount, type Posting, type PostResult } from './ledger.js';
import { Meter, parseMeterState } from './meter.js';
import { billingRoutes } from './routes.js';

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
    const records = new CallRecords(storage, writes);
    const ledger = new SlowLedger(storage.db, storage.kind);
    const meter = new Meter({
      calls: lobby.calls,
      ledger,
      db: storage.db,
      records,
      writes,
      clock,
      log,
      send: () => undefined,
      price: { perMinuteMicros: 600_000, rounding: 'second' },
      heartbeatMs: 5_000,
      overdraftMicros: 0,
      maxCallMs: 3_600_000,
    });
    wireRecordsAndMeter(lobby, records, meter);

    const [a, b] = [randomUUID(), randomUUID()];
    for (const u of [a, b]) {
      await storage.db.insertInto('users').values({ id: u, created_at: 0, rules_accepted_at: 0, rules_version: 1 }).execute();
      await ledger.post(
        {
          ref: `welcome:${u}`,
          kind: 'grant',
          entries: [
            { account: 'grants', amount: -100_000_000 },
            { account: userAccount(u), amount: 100_000_000 },
          ],
        },
        0,
      );
      lobby.connect(u, { rulesAccepted: true, blockedWith: new Set() });
      lobby.join(u);
    }
    await new Promise((r) => setImmediate(r)); // the pool answers a match on a later microtask
    const call = lobby.callOf(a)!;
    lobby.peerState(a, call.id, 'connected');
    lobby.peerState(b, call.id, 'connected');
    // A minute of heartbeats 2.5 s apart, alternating sides, far faster than postings complete.
    for (let i = 1; i <= 24; i++) {
      clock.advance(2_500);
      for (const u of i % 2 ? [a, b] : [b, a])
        meter.heartbeat(u, { type: 'heartbeat', callId: call.id, seq: i, bytesReceived: i * 10_000 });
    }
    lobby.leave(a);
    await writes.flush();
    const row = await storage.db.selectFrom('calls').select('billed_ms').where('id', '=', call.id).executeTakeFirstOrThrow();
    const billedSeconds = Math.floor(Number(row.billed_ms) / 1000);
    const expected = Math.floor((billedSeconds * 600_000) / 60);
    for (const u of [a, b]) expect(100_000_000 - (await ledger.balance(userAccount(u)))).toBe(expected);
    expect(await ledger.unbalanced()).toEqual([]);
  });

  it('charges only what is left after the day’s free time, and says what is left of it', async () => {
    const clock = new FakeClock(Date.UTC(2026, 10, 27, 12, 0, 0));
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
    const records = new CallRecords(storage, writes);
    const ledger = new SlowLedger(storage.db, storage.kind);
    const price = { perMinuteMicros: 600_000, rounding: 'second' as const };
    const meter = new Meter({
      calls: lobby.calls,
      ledger,
      db: storage.db,
      records,
      writes,
      clock,
      log,
      send: () => undefined,
      price,
      heartbeatMs: 5_000,
      overdraftMicros: 0,
      maxCallMs: 3_600_000,
      dailyFreeMs: 60_000,
    });
    wireRecordsAndMeter(lobby, records, meter);

    const [a, b] = [randomUUID(), randomUUID()];
    for (const u of [a, b]) {
      await storage.db.insertInto('users').values({ id: u, created_at: 0, rules_accepted_at: 0, rules_version: 1 }).execute();
      await ledger.post(
        {
          ref: `welcome:${u}`,
          kind: 'grant',
          entries: [
            { account: 'grants', amount: -10_000_000 },
            { account: userAccount(u), amount: 10_000_000 },
          ],
        },
        0,
      );
      lobby.connect(u, { rulesAccepted: true, blockedWith: new Set() });
      lobby.join(u);
    }
    expect(await meter.freeLeftToday(a)).toBe(60_000);
    await new Promise((r) => setImmediate(r)); // the pool answers a match on a later microtask
    const call = lobby.callOf(a)!;
    lobby.peerState(a, call.id, 'connected');
    lobby.peerState(b, call.id, 'connected');
    for (let i = 1; i <= 9; i++) {
      clock.advance(5_000);
      for (const u of [a, b]) meter.heartbeat(u, { type: 'heartbeat', callId: call.id, seq: i, bytesReceived: i * 10_000 });
    }
    await writes.flush();
    expect(await meter.freeLeftToday(a)).toBe(15_000); // 45 s billed so far
    for (let i = 10; i <= 18; i++) {
      clock.advance(5_000);
      for (const u of [a, b]) meter.heartbeat(u, { type: 'heartbeat', callId: call.id, seq: i, bytesReceived: i * 10_000 });
    }
    lobby.leave(a);
    await writes.flush();
    const row = await storage.db
      .selectFrom('calls')
      .select(['billed_ms', 'a_free_ms', 'b_free_ms', 'meter_state'])
      .where('id', '=', call.id)
      .executeTakeFirstOrThrow();
    expect([Number(row.billed_ms), Number(row.a_free_ms), Number(row.b_free_ms)]).toEqual([90_000, 60_000, 60_000]);
    expect(parseMeterState(row.meter_state)?.free).toEqual({ a: 60_000, b: 60_000 });
    for (const u of [a, b]) {
      expect(10_000_000 - (await ledger.balance(userAccount(u)))).toBe(300_000); // 30 paid seconds
      expect(await ledger.sumByRef(userAccount(u), `call:${call.id}:${u}:30`)).toBe(-300_000); // the ref names the paid units
      expect(await meter.freeLeftToday(u)).toBe(0);
    }

    const tokens = new TokenIssuer('0123456789abcdef0123456789abcdef');
    const config = loadConfig({ PRICE_PER_MINUTE: '0.6', DAILY_FREE_MINUTES: '1' });
    const billing = async (withMeter: boolean) => {
      const app = Fastify();
      billingRoutes(app, { ledger, tokens, config, ...(withMeter ? { meter } : {}) });
      const res = await app.inject({
        method: 'GET',
        url: '/api/me/billing',
        headers: { authorization: `Bearer ${await tokens.issue(a)}` },
      });
      await app.close();
      return res.json<{ freeMinutes: { perDay: number; leftTodayMs: number } }>().freeMinutes;
    };
    expect(await billing(true)).toEqual({ perDay: 1, leftTodayMs: 0 });
    expect(await billing(false)).toEqual({ perDay: 0, leftTodayMs: 0 }); // the meter decides: without it, none
    clock.advance(24 * 3_600_000);
    expect(await billing(true)).toEqual({ perDay: 1, leftTodayMs: 60_000 });
  });

  it('ends a call kept alive by sparse heartbeats (5 s on one side, 20 s on the other) at the silence limit, for nothing', async () => {
    // The probe of issue 13: every 20 s beat came after a gap, so it opened a new billing run and
    // nothing was ever billed — while each side's last beat stayed fresh and the call stayed up.
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
    const records = new CallRecords(storage, writes);
    const ledger = new Ledger(storage.db, storage.kind);
    const meter = new Meter({
      calls: lobby.calls,
      ledger,
      db: storage.db,
      records,
      writes,
      clock,
      log,
      send: () => undefined,
      price: { perMinuteMicros: 600_000, rounding: 'second' },
      heartbeatMs: 5_000,
      overdraftMicros: 0,
      maxCallMs: 3_600_000,
      silenceMs: 90_000,
    });
    wireRecordsAndMeter(lobby, records, meter);

    const [a, b] = [randomUUID(), randomUUID()];
    for (const u of [a, b]) {
      await storage.db.insertInto('users').values({ id: u, created_at: 0, rules_accepted_at: 0, rules_version: 1 }).execute();
      await ledger.post(
        {
          ref: `welcome:${u}`,
          kind: 'grant',
          entries: [
            { account: 'grants', amount: -10_000_000 },
            { account: userAccount(u), amount: 10_000_000 },
          ],
        },
        0,
      );
      lobby.connect(u, { rulesAccepted: true, blockedWith: new Set() });
      lobby.join(u);
    }
    await new Promise((r) => setImmediate(r)); // the pool answers a match on a later microtask
    const call = lobby.callOf(a)!;
    lobby.peerState(a, call.id, 'connected');
    lobby.peerState(b, call.id, 'connected');
    const connectedAt = clock.now();
    const seq = { [a]: 0, [b]: 0 };
    for (let s = 1; s <= 102; s++) {
      clock.advance(1_000);
      for (const [u, every] of [
        [a, 5],
        [b, 20],
      ] as const) {
        if (s % every !== 0 || call.isOver) continue;
        const n = (seq[u] ?? 0) + 1;
        seq[u] = n;
        meter.heartbeat(u, { type: 'heartbeat', callId: call.id, seq: n, bytesReceived: n * 50_000 });
      }
    }
    await writes.flush();
    const row = await storage.db
      .selectFrom('calls')
      .select(['billed_ms', 'end_reason', 'ended_at'])
      .where('id', '=', call.id)
      .executeTakeFirstOrThrow();
    expect({
      state: call.state,
      billedMs: Number(row.billed_ms),
      reason: row.end_reason,
      endedAfterMs: Number(row.ended_at) - connectedAt,
    }).toEqual({ state: 'ended', billedMs: 0, reason: 'connection_lost', endedAfterMs: 90_000 });
    for (const u of [a, b]) expect(await ledger.balance(userAccount(u))).toBe(10_000_000);
  });

  it('keeps a restored call’s silence clock (rows without one start it at the restore)', async () => {
    for (const stored of [true, false]) {
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
      const records = new CallRecords(storage, writes);
      const meter = new Meter({
        calls: lobby.calls,
        ledger: new Ledger(storage.db, storage.kind),
        db: storage.db,
        records,
        writes,
        clock,
        log,
        send: () => undefined,
        price: { perMinuteMicros: 0, rounding: 'second' },
        heartbeatMs: 5_000,
        overdraftMicros: 0,
        maxCallMs: 3_600_000,
        silenceMs: 90_000,
      });
      wireRecordsAndMeter(lobby, records, meter);
      const [a, b] = [randomUUID(), randomUUID()];
      const restartAt = clock.now();
      const connectedAt = restartAt - 60_000;
      const grewAt = connectedAt + 20_000; // billing last grew 40 s before the restart
      const side = { lastBytes: 100_000, lastSeq: 4, lastEvidence: restartAt - 2_000, runStart: restartAt - 2_000 };
      const state = { v: 1 as const, billedMs: 20_000, billedUntil: grewAt, a: { ...side }, b: { ...side }, ...(stored ? { grewAt } : {}) };
      const [call] = lobby.restore([
        {
          id: randomUUID(),
          a,
          b,
          matchedAt: connectedAt - 1_000,
          connectingAt: null,
          connectedAt,
          waitMs: { a: 0, b: 0 },
          reconnects: 0,
          reconnectingMs: 0,
          relayOnly: false,
        },
      ]);
      meter.restore(call!, state, { a: 0, b: 0 });
      for (const u of [a, b]) {
        lobby.connect(u, { rulesAccepted: true, blockedWith: new Set() });
        lobby.peerState(u, call!.id, 'connected');
      }
      // Both come back, one beating every 5 s and the other every 20 s: billing stands still.
      const seq = { [a]: 4, [b]: 4 };
      for (let s = 1; s <= 100 && call!.state !== 'ended'; s++) {
        clock.advance(1_000);
        for (const [u, every] of [
          [a, 5],
          [b, 20],
        ] as const) {
          if (s % every !== 0 || call!.isOver) continue;
          const n = (seq[u] ?? 0) + 1;
          seq[u] = n;
          meter.heartbeat(u, { type: 'heartbeat', callId: call!.id, seq: n, bytesReceived: 100_000 + n * 50_000 });
        }
      }
      expect({ state: call!.state, reason: call!.endReason, endedAt: call!.at.ended }).toEqual({
        state: 'ended',
        reason: 'connection_lost',
        endedAt: stored ? grewAt + 90_000 : restartAt + 90_000,
      });
      await writes.flush();
    }
  });

  it('reads stored states with and without free time', () => {
    const base = {
      v: 1,
      billedMs: 5,
      billedUntil: 9,
      a: { lastBytes: 1, lastSeq: 1, lastEvidence: 9, runStart: 0 },
      b: { lastBytes: 1, lastSeq: 1, lastEvidence: 9, runStart: 0 },
    };
    expect(parseMeterState(JSON.stringify(base))).toEqual(base);
    expect(parseMeterState(JSON.stringify({ ...base, free: { a: 60_000, b: 0 } }))?.free).toEqual({ a: 60_000, b: 0 });
    expect(parseMeterState(JSON.stringify({ ...base, free: { a: -1, b: 0 } }))).toBeNull();
    expect(parseMeterState(JSON.stringify({ ...base, free: null }))).toBeNull();
    // The silence clock (rows before it was stored have none, and stay readable).
    expect(parseMeterState(JSON.stringify({ ...base, grewAt: 7 }))?.grewAt).toBe(7);
    expect(parseMeterState(JSON.stringify({ ...base, grewAt: 'soon' }))).toBeNull();
  });
});
