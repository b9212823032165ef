/**
 * The metering chaos test (issue #6): thousands of simulated calls against the real server process
 * — dropped, duplicated, reordered and replayed heartbeats, frozen media, signaling and ICE drops
 * recovered inside and outside the grace window, browsers whose clocks are minutes off and drift,
 * and kill -9 of the server mid-wave with people coming back (or not) to their calls — and then the
 * ledger against the test's own arithmetic (truth.ts): every call billed to the millisecond, every
 * person charged exactly once for it, every ledger invariant holding.
 *
 * Run: `npm run test:chaos` (after `npm run build`); CHAOS_CALLS and CHAOS_SEED change the size and
 * the draw. The server runs on simulated time (DUET_CLOCK=ipc) so that the server time of every
 * heartbeat is known exactly; its sockets, SQLite and ledger are the real ones.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../packages/server/src/testing/postgres.js';
import { seededRandom } from '../../packages/server/src/testing/random.js';
import { emptyTally, planCall, type Disruption, type PlanEvent, type Side } from './plan.js';
import { ChaosServer, freePort } from './server.js';
import { Sim } from './sim.js';
import { billCall, chargePerSecond, evidenceOf, type Received } from './truth.js';

const CALLS = Number(process.env.CHAOS_CALLS ?? 2_000);
/** The same chaos, smaller, with the ledger on PostgreSQL (0: skip). */
const PG_CALLS = Number(process.env.CHAOS_PG_CALLS ?? 500);
const SEED = Number(process.env.CHAOS_SEED ?? 20_261_127);
const WAVE = 250;
/** Waves in which the server is killed (at least two, whatever the size). */
const H = 5_000;
const GRACE = 15_000;
const CAP_MINUTES = 2;
const PRICE = 1_000_000; // 1 credit a minute, per second
const WELCOME = 100; // credits: nobody runs out (running out is tested in tests/integration/metering.test.ts)
const SILENCE = 90_000;
const rules = { heartbeatMs: H, graceMs: GRACE, capMs: CAP_MINUTES * 60_000, silenceMs: SILENCE };

let server: ChaosServer | undefined;
const cleanups: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  await server?.kill9();
  for (const c of cleanups) await c();
});

/** Reads the server's database for the verdict: SQLite's file, or PostgreSQL. */
async function openReader(
  storage: 'sqlite' | 'postgres',
  where: string,
): Promise<{ q: <T>(sql: string) => Promise<T[]>; close: () => Promise<void> }> {
  if (storage === 'sqlite') {
    const db = new Database(path.join(where, 'duet.sqlite'), { readonly: true });
    return { q: async <T>(sql: string) => db.prepare(sql).all() as T[], close: async () => void db.close() };
  }
  const client = new pg.Client({ connectionString: where });
  await client.connect();
  // bigint sums arrive as strings from PostgreSQL: numbers here, as from SQLite.
  const numeric = (row: Record<string, unknown>) =>
    Object.fromEntries(
      Object.entries(row).map(([k, v]) => [
        k,
        typeof v === 'string' && /^-?\d+$/.test(v) && k !== 'id' && k !== 'ref' && k !== 'txn_id' && k !== 'account' ? Number(v) : v,
      ]),
    );
  return { q: async <T>(sql: string) => (await client.query(sql)).rows.map(numeric) as T[], close: () => client.end() };
}

/** What the model knows of one call. */
interface Modelled {
  callId: string;
  sims: Record<Side, Sim>;
  connectedAt: number;
  disruption: Disruption;
  received: Received[];
  /** Leaves, and what a crash decided. */
  ends: number[];
  /** Signaling drops and ICE losses, and when each side came back (if it did). */
  losses: Array<{ kind: 'drop' | 'ice'; side: Side; at: number; back?: number }>;
  crash?: { restartAt: number; resumable: boolean };
}

/** Everything that ends the call in the model: leaves, crashes, and losses not recovered in their grace window. */
function endsOf(call: Modelled): number[] {
  const lapsed = call.losses.filter((l) => l.back === undefined || l.back >= l.at + GRACE).map((l) => l.at + GRACE);
  return [...call.ends, ...lapsed];
}

/** The model's verdict on a call so far: its billing, and when it ends (the meter's own ends included). */
function truthOf(call: Modelled) {
  return billCall(call.connectedAt, call.received, endsOf(call), rules);
}

async function inBatches<T, R>(items: readonly T[], size: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size) out.push(...(await Promise.all(items.slice(i, i + size).map(fn))));
  return out;
}

describe('metering under chaos', () => {
  it(`bills ${CALLS} chaotic calls exactly, across kill -9 restarts (SQLite)`, () => runChaos(CALLS, 'sqlite'));
  it.runIf(PG_CALLS > 0)(`bills ${PG_CALLS} chaotic calls exactly, across kill -9 restarts (PostgreSQL)`, () =>
    runChaos(PG_CALLS, 'postgres'),
  );
});

async function runChaos(CALLS: number, storage: 'sqlite' | 'postgres'): Promise<void> {
  const WAVES = Math.ceil(CALLS / WAVE);
  // At least two kill -9 restarts: in three waves of a long run, in every wave of a short one.
  const KILL_WAVES = new Set(WAVES >= 4 ? [1, WAVES - 3, WAVES - 1] : Array.from({ length: WAVES }, (_, i) => i));
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'duet-chaos-'));
  cleanups.push(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  let databaseUrl: string | undefined;
  if (storage === 'postgres') {
    const created = await createTestDatabase();
    databaseUrl = created.url;
    cleanups.push(created.drop);
  }
  const started = Date.now();
  const rand = seededRandom(storage === 'sqlite' ? SEED : SEED + 1); // another draw on PostgreSQL
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const wsUrl = `ws://127.0.0.1:${port}/ws`;
  const env = {
    PORT: String(port),
    DATA_DIR: dataDir,
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    PRICE_PER_MINUTE: String(PRICE / 1_000_000),
    BILLING_ROUNDING: 'second',
    WELCOME_CREDITS: String(WELCOME),
    WELCOME_PER_ADDRESS_PER_DAY: '100000',
    METER_HEARTBEAT_MS: String(H),
    RECONNECT_GRACE_MS: String(GRACE),
    MAX_CALL_MINUTES: String(CAP_MINUTES),
    METER_SILENCE_MS: String(SILENCE),
    CONNECT_TIMEOUT_MS: '60000',
    SESSION_RATE_LIMIT: '100000',
    WS_MAX_PER_ADDRESS: '100000',
  };
  let now = 1_800_000_000_000;
  const serverErrors: string[] = [];
  server = await ChaosServer.start(env, now, serverErrors);
  const tally = emptyTally();
  const modelled: Modelled[] = [];
  const stats = {
    crashes: 0,
    resumedAfterCrash: 0,
    settledAfterCrash: 0,
    notBackInGrace: 0,
    rejoinsInGrace: 0,
    rejoinsAfterGrace: 0,
    resumeMismatches: [] as string[],
  };

  const guest = async (name: string): Promise<Sim> => {
    const res = await fetch(`${base}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    const s = (await res.json()) as { token: string };
    await fetch(`${base}/api/rules/accept`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${s.token}` },
      body: JSON.stringify({ adult: true, rulesVersion: 1 }),
    });
    return new Sim(name, s.token);
  };

  for (let wave = 0; wave < WAVES; wave++) {
    const calls = Math.min(WAVE, CALLS - wave * WAVE);
    // Everyone joins; the server pairs them however it likes.
    const sims = await inBatches(
      Array.from({ length: 2 * calls }, (_, i) => `w${wave}p${i}`),
      50,
      guest,
    );
    await inBatches(sims, 100, (s) => s.connect(wsUrl));
    for (const s of sims) s.send({ type: 'join' });
    await Promise.all(sims.map((s) => s.waitFor((m) => m.type === 'matched', 30_000)));
    const byCall = new Map<string, Sim[]>();
    for (const s of sims) {
      const m = s.history.find((x) => x.type === 'matched') as Extract<(typeof s.history)[number], { type: 'matched' }>;
      s.callId = m.callId;
      s.side = m.role === 'offerer' ? 'a' : 'b';
      byCall.set(m.callId, [...(byCall.get(m.callId) ?? []), s]);
    }
    for (const s of sims) s.send({ type: 'peer_state', callId: s.callId!, state: 'connected' });
    await Promise.all(sims.map((s) => s.waitFor((m) => m.type === 'call_connected' && m.callId === s.callId, 30_000)));
    const connectedAt = server.now;

    // The crash, if this wave has one, and the quiet window around it.
    const crashAt = KILL_WAVES.has(wave) ? connectedAt + 40_000 + Math.round(rand() * 200) * 100 : undefined;
    // Mostly a quick restart; the last wave's server stays down for 40 s, so the calls it left are
    // past resuming and are settled as it starts.
    const downtime = wave === WAVES - 1 && WAVES > 1 ? 40_000 : 1_000 + Math.round(rand() * 30) * 100;
    const quiet: [number, number] | undefined =
      crashAt === undefined ? undefined : [crashAt - 2 * H - 1_000, crashAt + downtime + GRACE + 15_000];

    const timeline = new Map<number, Array<{ call: Modelled; e: PlanEvent }>>();
    const schedule = (call: Modelled, e: PlanEvent) => timeline.set(e.t, [...(timeline.get(e.t) ?? []), { call, e }]);
    for (const [callId, pair] of byCall) {
      const [a, b] = pair[0]!.side === 'a' ? [pair[0]!, pair[1]!] : [pair[1]!, pair[0]!];
      a.partner = b;
      b.partner = a;
      const plan = planCall(rand, connectedAt, { heartbeatMs: H, graceMs: GRACE, ...(quiet ? { quiet } : {}) }, tally);
      const call: Modelled = { callId, sims: { a, b }, connectedAt, disruption: plan.disruption, received: [], ends: [], losses: [] };
      modelled.push(call);
      for (const e of plan.events) schedule(call, e);
    }

    let crashed = crashAt === undefined;
    while (timeline.size > 0) {
      const t = Math.min(...timeline.keys());
      if (!crashed && t > crashAt!) {
        crashed = true;
        await crash(crashAt!, downtime, wave);
        continue; // the crash scheduled rejoins: look again for the earliest moment
      }
      const step = timeline.get(t)!;
      timeline.delete(t);
      await server.advance(t);
      now = t;
      await runStep(t, step);
    }
    // Let every grace window run out, then everyone goes.
    await server.advance(now + GRACE + H);
    now += GRACE + H;
    await Promise.all(sims.map((s) => s.drop()));

    async function crash(at: number, down: number, w: number): Promise<void> {
      await server!.advance(at); // time stands at the crash and every write has landed
      await server!.kill9();
      stats.crashes += 1;
      await Promise.all(sims.map((s) => s.drop()));
      const restartAt = at + down;
      server = await ChaosServer.start(env, restartAt, serverErrors);
      now = restartAt;
      for (const call of modelled.filter((c) => c.connectedAt === connectedAt)) {
        // The model's view at the crash: calls that were still on, and whether the server can resume them.
        const endedBefore = truthOf(call).endedAt <= at;
        if (endedBefore) continue;
        const evidence = lastEvidence(call, at);
        const resumable = restartAt - evidence <= GRACE + 4 * H;
        const back: Record<Side, number> = { a: 0, b: 0 };
        for (const side of ['a', 'b'] as const) {
          const inGrace = rand() < 0.75;
          back[side] = restartAt + (inGrace ? 300 + Math.round(rand() * 110) * 100 : GRACE + 500 + Math.round(rand() * 110) * 100);
          schedule(call, { t: back[side], kind: 'rejoin', side });
        }
        if (!resumable) {
          stats.settledAfterCrash += 1;
          call.ends.push(restartAt);
        } else if (Math.max(back.a, back.b) < restartAt + GRACE) {
          stats.resumedAfterCrash += 1;
        } else {
          stats.notBackInGrace += 1;
          call.ends.push(restartAt + GRACE);
        }
        call.crash = { restartAt, resumable };
      }
      void w;
    }
  }

  /** The last moment either side showed media, as the server saw it before `until`. */
  function lastEvidence(call: Modelled, until: number): number {
    let last = call.connectedAt;
    for (const r of evidenceOf(call.received)) if (r.t <= until) last = Math.max(last, r.t);
    return last;
  }

  async function runStep(t: number, step: Array<{ call: Modelled; e: PlanEvent }>): Promise<void> {
    const touched = new Set<Sim>();
    const dropped: Array<{ call: Modelled; sim: Sim }> = [];
    const rejoins: Array<{ call: Modelled; sim: Sim }> = [];
    for (const { call, e } of step) {
      const sim = call.sims[e.side];
      switch (e.kind) {
        case 'hb':
          for (const m of e.messages) {
            if (sim.send({ type: 'heartbeat', callId: call.callId, seq: m.seq, bytesReceived: m.bytes })) {
              call.received.push({ t, side: e.side, seq: m.seq, bytes: m.bytes });
              touched.add(sim);
            }
          }
          break;
        case 'leave':
          if (sim.send({ type: 'leave', callId: call.callId })) {
            call.ends.push(t);
            touched.add(sim);
          }
          break;
        case 'drop':
          if (sim.open) {
            dropped.push({ call, sim });
            call.losses.push({ kind: 'drop', side: e.side, at: t });
          }
          break;
        case 'rejoin':
          rejoins.push({ call, sim });
          break;
        case 'ice':
          if (e.state === 'disconnected') {
            if (sim.send({ type: 'peer_state', callId: call.callId, state: 'disconnected' })) {
              call.losses.push({ kind: 'ice', side: e.side, at: t });
              touched.add(sim);
            }
          } else if (sim.send({ type: 'peer_state', callId: call.callId, state: 'connected' })) {
            const loss = call.losses.find((l) => l.kind === 'ice' && l.side === e.side && l.back === undefined);
            if (loss) loss.back = t;
            touched.add(sim);
          }
          break;
      }
    }
    for (const { call, sim } of dropped) {
      const partner = sim.partner!;
      const heard = partner.history.length;
      await sim.drop();
      // The server has seen the drop once the partner hears of it — unless the call was already
      // over (the partner may have been away when it ended, and never told).
      const modelOn = t < truthOf(call).endedAt;
      const over = !modelOn || partner.history.some((m) => m.type === 'call_ended' && m.callId === call.callId);
      if (partner.open && !over)
        await partner.waitFor(
          (m) => (m.type === 'call_reconnecting' || m.type === 'call_ended') && m.callId === call.callId,
          20_000,
          heard,
        );
    }
    for (const { call, sim } of rejoins) {
      const welcome = await sim.connect(wsUrl);
      const resumed = welcome.callId === call.callId;
      const drop = call.losses.find((l) => l.kind === 'drop' && l.side === sim.side && l.back === undefined);
      const crashRejoin = call.crash !== undefined && t >= call.crash.restartAt && !drop;
      if (drop) {
        drop.back = t;
        if (t < drop.at + GRACE) stats.rejoinsInGrace += 1;
        else stats.rejoinsAfterGrace += 1;
      }
      // What the person must be told: their call is still there exactly when the model says so.
      const stillOn = t < truthOf(call).endedAt;
      if (resumed !== stillOn)
        stats.resumeMismatches.push(
          `${call.callId} ${sim.side} at ${t}: resumed=${resumed} model=${stillOn}${crashRejoin ? ' (after a crash)' : ''}`,
        );
      if (resumed) {
        sim.send({ type: 'peer_state', callId: call.callId, state: 'connected' });
        touched.add(sim);
      }
    }
    await Promise.all([...touched].map((s) => s.sync()));
  }

  // ---- the verdict -----------------------------------------------------------------------
  await server.advance(now + GRACE + H);
  const reader = await openReader(storage, databaseUrl ?? dataDir);
  try {
    const rows = await reader.q<{ id: string; billed_ms: number; ended_at: number | null; end_reason: string | null }>(
      'SELECT id, billed_ms, ended_at, end_reason FROM calls',
    );
    const dbCalls = new Map(rows.map((r) => [r.id, r]));
    const charges = await reader.q<{ ref: string; account: string; amount: number; meta: string }>(
      "SELECT t.ref, e.account, e.amount, t.meta FROM ledger_txns t JOIN ledger_entries e ON e.txn_id = t.id WHERE t.kind = 'charge' AND e.account LIKE 'user:%'",
    );
    const chargedBy = new Map<string, number>();
    const postings = new Map<string, number>();
    for (const c of charges) {
      const [, callId, userId] = c.ref.split(':');
      const key = `${callId}:${userId}`;
      chargedBy.set(key, (chargedBy.get(key) ?? 0) - c.amount);
      postings.set(key, (postings.get(key) ?? 0) + 1);
    }

    const mismatches: string[] = [];
    let billedTotal = 0;
    const meterEnds = { silence: 0, cap: 0 };
    const sparse = { calls: 0, endedBySilence: 0, billedMinutes: 0 };
    const modelledIds = new Set(modelled.map((c) => c.callId));
    for (const call of modelled) {
      const truth = truthOf(call);
      billedTotal += truth.billedMs;
      const bySilence = truth.meterEndedAt !== null && truth.meterEndedAt < call.connectedAt + rules.capMs;
      if (truth.meterEndedAt !== null) meterEnds[bySilence ? 'silence' : 'cap'] += 1;
      if (call.disruption === 'sparse') {
        sparse.calls += 1;
        sparse.billedMinutes += truth.billedMs / 60_000;
        if (bySilence) sparse.endedBySilence += 1;
      }
      const row = dbCalls.get(call.callId);
      if (!row) mismatches.push(`${call.callId}: no record`);
      else {
        if (Number(row.billed_ms) !== truth.billedMs)
          mismatches.push(`${call.callId}: billed ${row.billed_ms} ms, truth ${truth.billedMs} ms`);
        if (row.ended_at === null) mismatches.push(`${call.callId}: never ended`);
        // Ended by the meter exactly when the model says (unless that fell while the server was down:
        // then it ends, or is settled, as it restarts).
        const meterEndSeen = truth.meterEndedAt !== null && (call.crash === undefined || truth.meterEndedAt > call.crash.restartAt);
        if (meterEndSeen && (Number(row.ended_at) !== truth.meterEndedAt || row.end_reason !== 'connection_lost')) {
          mismatches.push(`${call.callId}: ended at ${row.ended_at} (${row.end_reason}), truth: by the meter at ${truth.meterEndedAt}`);
        }
      }
      for (const side of ['a', 'b'] as const) {
        const key = `${call.callId}:${call.sims[side].userId}`;
        const expected = chargePerSecond(truth.billedMs, PRICE);
        const got = chargedBy.get(key) ?? 0;
        if (got !== expected) mismatches.push(`${key}: charged ${got} µc, truth ${expected} µc (${postings.get(key) ?? 0} postings)`);
      }
    }
    // Calls outside the plan (a requeued partner matched again, then left) never connected: nothing billed.
    for (const row of rows) {
      if (modelledIds.has(row.id)) continue;
      if (Number(row.billed_ms) !== 0) mismatches.push(`${row.id} (unplanned): billed ${row.billed_ms} ms`);
      if (row.ended_at === null) mismatches.push(`${row.id} (unplanned): never ended`);
    }
    for (const [key] of chargedBy)
      if (!modelledIds.has(key.split(':')[0]!)) mismatches.push(`${key}: charged for a call that was never modelled`);

    // Ledger invariants: every transaction balances; no balance below the floor (no overdraft);
    // the revenue account holds exactly what people were charged.
    const unbalanced = await reader.q('SELECT txn_id, SUM(amount) AS s FROM ledger_entries GROUP BY txn_id HAVING SUM(amount) <> 0');
    const negative = await reader.q(
      "SELECT account, SUM(amount) AS s FROM ledger_entries WHERE account LIKE 'user:%' GROUP BY account HAVING SUM(amount) < 0",
    );
    const revenue = (
      await reader.q<{ s: number }>("SELECT COALESCE(SUM(amount), 0) AS s FROM ledger_entries WHERE account = 'revenue'")
    )[0]!.s;
    const charged = [...chargedBy.values()].reduce((x, y) => x + y, 0);
    const duplicateRefs = await reader.q('SELECT ref, COUNT(*) AS n FROM ledger_txns GROUP BY ref HAVING COUNT(*) > 1');

    const report = {
      calls: modelled.length,
      unplannedCalls: rows.length - modelled.length,
      ...tally,
      ...stats,
      resumeMismatches: stats.resumeMismatches.length,
      billedMinutes: Math.round(billedTotal / 600) / 100,
      meterEnds,
      sparse: { ...sparse, billedMinutes: Math.round(sparse.billedMinutes * 100) / 100 },
      chargePostings: charges.length,
      mismatches: mismatches.length,
      wallSeconds: Math.round((Date.now() - started) / 1000),
    };
    console.log(`metering chaos (${storage}): ${JSON.stringify(report)}`);
    if (mismatches.length > 0) console.log(mismatches.slice(0, 20).join('\n'));
    if (stats.resumeMismatches.length > 0) console.log(stats.resumeMismatches.slice(0, 20).join('\n'));

    expect(modelled.length).toBeGreaterThanOrEqual(CALLS);
    expect(stats.crashes).toBeGreaterThanOrEqual(Math.min(2, WAVES));
    expect(mismatches).toEqual([]);
    expect(stats.resumeMismatches).toEqual([]);
    expect(unbalanced).toEqual([]);
    expect(negative).toEqual([]);
    expect(duplicateRefs).toEqual([]);
    expect(revenue).toBe(charged);
    // The chaos really happened: every kind of trouble occurred, many times.
    for (const n of [
      tally.dropped,
      tally.duplicated,
      tally.reordered,
      tally.replayed,
      tally.frozen,
      stats.rejoinsInGrace,
      stats.rejoinsAfterGrace,
      stats.resumedAfterCrash,
      stats.settledAfterCrash,
      meterEnds.silence,
      meterEnds.cap,
      sparse.endedBySilence,
    ])
      expect(n).toBeGreaterThan(0);
    expect(serverErrors).toEqual([]);
  } finally {
    await reader.close();
    await server.kill9();
  }
}
