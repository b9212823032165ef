import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallRecords } from '../calls/recorder.js';
import { Lobby } from '../lobby/lobby.js';
import { wireRecordsAndMeter } from '../testing/lifecycle.js';
import { MemoryPool } from '../matchmaking/memoryPool.js';
import { DEFAULT_POLICY } from '../matchmaking/rules.js';
import { openStorage, type Storage } from '../storage/database.js';
import { FakeClock } from '../testing/fakeClock.js';
import { PendingWrites } from '../util/tasks.js';
import { Ledger } from './ledger.js';
import { Meter } from './meter.js';

const H = 5_000;
const SILENCE = 90_000;
const CAP = 4 * 60_000;

type SideName = 'a' | 'b';
/**
 * One heartbeat as an attacker (or a broken network) might send it: when, from which side, how its
 * sequence number moves from the highest sent so far (1: the next; 0: a duplicate; below: a replay;
 * above: some lost), and how much its byte counter grows (0 or less: no media).
 */
interface Beat {
  at: number;
  side: SideName;
  seqStep: number;
  grow: number;
}

const side = fc.constantFrom<SideName>('a', 'b');
const seqStep = fc.oneof(
  { weight: 6, arbitrary: fc.constant(1) },
  { weight: 1, arbitrary: fc.integer({ min: -4, max: 0 }) },
  { weight: 1, arbitrary: fc.integer({ min: 2, max: 6 }) },
);
const grow = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 1, max: 200_000 }) },
  { weight: 1, arbitrary: fc.constant(0) },
  { weight: 1, arbitrary: fc.integer({ min: -50_000, max: -1 }) },
);

/** Arbitrary gaps: bursts (0–0.5 s), roughly on time (up to 12 s), sparse (10–100 s). */
const scattered = fc
  .array(
    fc.record({
      dt: fc.oneof(fc.integer({ min: 0, max: 500 }), fc.integer({ min: 0, max: 12_000 }), fc.integer({ min: 10_000, max: 100_000 })),
      side,
      seqStep,
      grow,
    }),
    { maxLength: 150 },
  )
  .map((xs) => {
    let at = 0;
    return xs.map(({ dt, ...b }): Beat => ({ at: (at += dt), ...b }));
  });

/** One side beating on its own period (sparse or dense, with jitter) over part of the call, or not at all. */
const periodic = (s: SideName) =>
  fc.option(
    fc
      .record({
        period: fc.integer({ min: 500, max: 40_000 }),
        jitter: fc.integer({ min: 0, max: 3_000 }),
        from: fc.integer({ min: 0, max: 60_000 }),
        until: fc.integer({ min: 10_000, max: CAP + 30_000 }),
        jitters: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 16 }),
      })
      .map(({ period, jitter, from, until, jitters }) => {
        const beats: Beat[] = [];
        for (let k = 0, at = from; at < until && beats.length < 600; k++, at = from + k * period)
          beats.push({ at: at + Math.round(jitters[k % jitters.length]! * jitter), side: s, seqStep: 1, grow: 50_000 });
        return beats;
      }),
    { nil: [] as Beat[] },
  );

const schedule = fc
  .oneof(
    scattered,
    fc.tuple(periodic('a'), periodic('b')).map(([x, y]) => [...x, ...y]),
    fc.tuple(periodic('a'), periodic('b'), scattered).map(([x, y, z]) => [...x, ...y, ...z]),
  )
  .map((beats) => beats.sort((x, y) => x.at - y.at));

describe('the meter cannot be starved (property)', () => {
  let dir: string;
  let storage: Storage;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'duet-meter-prop-'));
    storage = await openStorage({ dataDir: dir });
  });
  afterAll(async () => {
    await storage.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('ends every call whose billing stands still for the silence limit, and every call at the length cap', async () => {
    await fc.assert(
      fc.asyncProperty(schedule, async (beats) => {
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
        // Free calls: the meter runs all the same, and no balance can end a call before its time.
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
          heartbeatMs: H,
          overdraftMicros: 0,
          maxCallMs: CAP,
          silenceMs: SILENCE,
        });
        wireRecordsAndMeter(lobby, records, meter);
        const users = { a: randomUUID(), b: randomUUID() };
        for (const u of [users.a, users.b]) {
          lobby.connect(u, { rulesAccepted: true, blockedWith: new Set() });
          lobby.join(u);
        }
        await new Promise((r) => setImmediate(r)); // the pool answers in a microtask
        const call = lobby.callOf(users.a)!;
        lobby.peerState(users.a, call.id, 'connected');
        lobby.peerState(users.b, call.id, 'connected');
        const connectedAt = clock.now();
        const sent = { a: { seq: 0, bytes: 0 }, b: { seq: 0, bytes: 0 } };
        let billed = 0;
        let grewAt = connectedAt;

        // The fake clock fires timers exactly when due, so the timer's resolution here is 0.
        const check = () => {
          const now = clock.now();
          if (call.state === 'ended') {
            const endedAt = call.at.ended!;
            expect(call.endReason).toBe('connection_lost');
            expect(endedAt).toBe(Math.min(grewAt + SILENCE, connectedAt + CAP));
            expect(billed).toBeLessThanOrEqual(Math.min(endedAt - connectedAt, CAP));
            return;
          }
          expect(now - grewAt).toBeLessThan(SILENCE); // billing grew within the silence limit
          expect(now).toBeLessThan(connectedAt + CAP); // never past the length cap
          expect(billed).toBeLessThanOrEqual(now - connectedAt); // never more than the connected wall time
          if (now - connectedAt >= SILENCE) expect(billed).toBeGreaterThan(0); // never both free and live
        };

        for (const beat of beats) {
          clock.advance(connectedAt + beat.at - clock.now());
          check();
          if (call.state === 'ended') break;
          const s = sent[beat.side];
          const seq = Math.max(0, s.seq + beat.seqStep);
          s.seq = Math.max(s.seq, seq);
          s.bytes = Math.max(0, s.bytes + beat.grow);
          meter.heartbeat(users[beat.side], { type: 'heartbeat', callId: call.id, seq, bytesReceived: s.bytes });
          const now = meter.billedMs(call.id);
          if (now !== undefined && now > billed) {
            billed = now;
            grewAt = clock.now();
          }
          check();
        }
        // Whatever the heartbeats did, the call ends by itself.
        clock.advance(Math.max(0, connectedAt + CAP - clock.now()));
        check();
        expect(call.state).toBe('ended');
        await writes.flush();
      }),
      { numRuns: 300 },
    );
  });
});
