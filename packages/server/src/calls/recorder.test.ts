import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStorage, type Storage } from '../storage/database.js';
import { createTestDatabase } from '../testing/postgres.js';
import { PendingWrites } from '../util/tasks.js';
import { Call } from './call.js';
import { CallRecords } from './recorder.js';

const backends: Array<[string, () => Promise<{ storage: Storage; cleanup: () => Promise<void> }>]> = [
  [
    'sqlite',
    async () => {
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'duet-records-'));
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

describe.each(backends)('CallRecords on %s', (_kind, make) => {
  let storage: Storage;
  let cleanup: () => Promise<void>;
  let writes: PendingWrites;
  let records: CallRecords;
  let n = 0;
  beforeAll(async () => {
    ({ storage, cleanup } = await make());
    writes = new PendingWrites(pino({ level: 'silent' }));
    records = new CallRecords(storage, writes, 'node-1');
    await storage.db
      .insertInto('users')
      .values(['ua', 'ub'].map((id) => ({ id, created_at: 0, rules_accepted_at: 0, rules_version: 1 })))
      .execute();
  });
  afterAll(async () => {
    await storage?.close();
    await cleanup?.();
  });

  /** A new call, its record written. */
  const matched = async (at = 1_000) => {
    const call = new Call(`c${++n}`, 'ua', 'ub', at, { a: 10, b: 20 });
    records.callMatched(call);
    await writes.flush();
    return call;
  };
  const row = (id: string) => storage.db.selectFrom('calls').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

  it('inserts a call as it is matched and follows its moves, in order', async () => {
    const call = new Call(`c${++n}`, 'ua', 'ub', 1_000, { a: 10, b: 20 });
    // Queued back to back: the updates never overtake the insert.
    records.callMatched(call);
    call.transition('connecting', 1_100);
    records.callMoved(call);
    call.transition('connected', 1_200);
    records.callMoved(call);
    await writes.flush();
    expect(await row(call.id)).toMatchObject({
      user_a: 'ua',
      user_b: 'ub',
      state: 'connected',
      a_wait_ms: 10,
      b_wait_ms: 20,
      node: 'node-1',
      ended_at: null,
    });
    expect([Number((await row(call.id)).connecting_at), Number((await row(call.id)).connected_at)]).toEqual([1_100, 1_200]);
    call.end('leave', 'ua', 5_000);
    records.callMoved(call);
    await writes.flush();
    expect(await row(call.id)).toMatchObject({ state: 'ended', end_reason: 'leave', ended_by: 'ua' });
    expect(Number((await row(call.id)).ended_at)).toBe(5_000);
  });

  it('stores the meter readings and the final billable time', async () => {
    const call = await matched();
    records.meterState(call.id, { billedMs: 4_000, aMediaUntil: 5_000, bMediaUntil: 6_000, meterState: '{"v":1}' });
    await writes.flush();
    let r = await row(call.id);
    expect([Number(r.billed_ms), Number(r.a_media_until), Number(r.b_media_until), r.meter_state, r.a_free_ms, r.b_free_ms]).toEqual([
      4_000,
      5_000,
      6_000,
      '{"v":1}',
      null,
      null,
    ]);
    records.meterState(call.id, {
      billedMs: 9_000,
      aMediaUntil: 10_000,
      bMediaUntil: 11_000,
      meterState: '{"v":1,"free":{}}',
      free: { a: 60_000, b: 0 },
    });
    records.billed(call.id, 9_500);
    await writes.flush();
    r = await row(call.id);
    expect([Number(r.billed_ms), Number(r.a_media_until), r.meter_state, Number(r.a_free_ms), Number(r.b_free_ms)]).toEqual([
      9_500,
      10_000,
      '{"v":1,"free":{}}',
      60_000,
      0,
    ]);
  });

  it('looks up free time in the queue, after every earlier write, and stores it', async () => {
    const call = await matched();
    records.billed(call.id, 7_000);
    const seen: number[] = [];
    const done = records.freeMinutes(call.id, async (db) => {
      seen.push(Number((await db.selectFrom('calls').select('billed_ms').where('id', '=', call.id).executeTakeFirstOrThrow()).billed_ms));
      return { a: 1_000, b: 2_000, meterState: '{"free":true}' };
    });
    await done;
    expect(seen).toEqual([7_000]);
    const r = await row(call.id);
    expect([Number(r.a_free_ms), Number(r.b_free_ms), r.meter_state]).toEqual([1_000, 2_000, '{"free":true}']);
  });

  it('rejects a failed free-time lookup, stores nothing, and keeps the queue going', async () => {
    const call = await matched();
    const failed = records.freeMinutes(call.id, () => Promise.reject(new Error('unreadable')));
    records.billed(call.id, 3_000);
    await expect(failed).rejects.toThrow('unreadable');
    await writes.flush();
    const r = await row(call.id);
    expect([r.a_free_ms, r.b_free_ms, Number(r.billed_ms)]).toEqual([null, null, 3_000]);
  });

  it('stores what each side reports of its media path, field by field, and its quality samples', async () => {
    const call = await matched();
    records.mediaPaths(call.id, 'a', { path: '{"local":"host"}' });
    records.mediaPaths(call.id, 'b', { gathered: 'host,srflx' });
    records.mediaPaths(call.id, 'a', { gathered: 'host' });
    records.mediaPaths(call.id, 'b', {});
    const sample = {
      side: 'a' as const,
      seq: 1,
      at: 2_000,
      final: 0,
      rtt_ms: 40,
      jitter_ms: null,
      packet_loss: null,
      inbound_kbps: null,
      outbound_kbps: null,
      fps: 30,
      freeze_count: null,
      total_freezes_ms: null,
      audio_concealment: null,
      est_delay_ms: null,
      bytes_total: 1234,
    };
    records.qualitySample(call.id, sample);
    await writes.flush();
    expect(await row(call.id)).toMatchObject({ a_path: '{"local":"host"}', a_gathered: 'host', b_path: null, b_gathered: 'host,srflx' });
    const q = await storage.db.selectFrom('call_quality').selectAll().where('call_id', '=', call.id).execute();
    expect(q.map((s) => [s.side, Number(s.seq), Number(s.rtt_ms), Number(s.bytes_total)])).toEqual([['a', 1, 40, 1234]]);
  });

  it('adds up relayed bytes and takes a bounded claim as a total', async () => {
    const call = await matched();
    records.relayed(call.id, 50_000, false);
    await writes.flush();
    expect([Number((await row(call.id)).bytes_relayed), Number((await row(call.id)).relayed)]).toEqual([50_000, 0]);
    records.relayed(call.id, 60_000, true);
    records.relayed(call.id, 1_000, false);
    await writes.flush();
    expect([Number((await row(call.id)).bytes_relayed), Number((await row(call.id)).relayed)]).toEqual([111_000, 1]);

    const claimed = await matched();
    records.relayClaimed(claimed.id, 0);
    await writes.flush();
    expect([(await row(claimed.id)).bytes_relayed, Number((await row(claimed.id)).relayed)]).toEqual([null, 1]);
    records.relayClaimed(claimed.id, 80_000);
    await writes.flush();
    expect(Number((await row(claimed.id)).bytes_relayed)).toBe(80_000);
  });

  it('closes a call a dead process left open, once', async () => {
    const call = await matched();
    expect(await CallRecords.closeUnended(storage.db, call.id, 8_000)).toBe(true);
    expect(await CallRecords.closeUnended(storage.db, call.id, 9_000)).toBe(false);
    const r = await row(call.id);
    expect([r.state, r.end_reason, r.ended_by, Number(r.ended_at)]).toEqual(['ended', 'server_shutdown', null, 8_000]);
    // Also inside a transaction, as settlement may run.
    const other = await matched();
    expect(await storage.db.transaction().execute((trx) => CallRecords.closeUnended(trx, other.id, 8_500))).toBe(true);
    expect(Number((await row(other.id)).ended_at)).toBe(8_500);
  });

  it('prunes calls that ended before the cut-off, with their quality samples', async () => {
    const old = await matched(100);
    const recent = await matched(100);
    const open = await matched(100);
    old.end('leave', 'ua', 200);
    recent.end('leave', 'ua', 50_000);
    for (const c of [old, recent]) records.callMoved(c);
    for (const c of [old, recent, open])
      records.qualitySample(c.id, {
        side: 'b',
        seq: 1,
        at: 150,
        final: 1,
        rtt_ms: null,
        jitter_ms: null,
        packet_loss: null,
        inbound_kbps: null,
        outbound_kbps: null,
        fps: null,
        freeze_count: null,
        total_freezes_ms: null,
        audio_concealment: null,
        est_delay_ms: null,
        bytes_total: null,
      });
    await writes.flush();
    const before = await storage.db.selectFrom('calls').select('id').where('ended_at', '<', 10_000).execute();
    expect(await CallRecords.prune(storage.db, 10_000)).toBe(before.length);
    const left = (await storage.db.selectFrom('calls').select('id').execute()).map((c) => c.id);
    expect(left).not.toContain(old.id);
    expect(left).toEqual(expect.arrayContaining([recent.id, open.id]));
    const samples = (
      await storage.db.selectFrom('call_quality').select('call_id').where('call_id', 'in', [old.id, recent.id, open.id]).execute()
    ).map((s) => s.call_id);
    expect(samples.sort()).toEqual([recent.id, open.id].sort());
    expect(await CallRecords.prune(storage.db, 10_000)).toBe(0);
  });
});
