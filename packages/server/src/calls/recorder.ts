import { sql } from 'kysely';
import type { Db, Storage } from '../storage/database.js';
import type { CallQualityTable } from '../storage/schema.js';
import type { PendingWrites } from '../util/tasks.js';
import type { Call } from './call.js';

type Write = { work: (db: Db) => Promise<unknown>; done: (err?: unknown) => void };
type Side = 'a' | 'b';

/** Each person's free time for a call, in ms. */
export interface FreeMs {
  a: number;
  b: number;
}

/** The meter's reading of a call, stored with its record on every heartbeat. */
export interface MeterReading {
  billedMs: number;
  /** Server time of the last heartbeat showing each side receiving media. */
  aMediaUntil: number;
  bMediaUntil: number;
  /** The meter's state as JSON (metering/meter.ts `MeterState`). */
  meterState: string;
  free?: FreeMs | undefined;
}

/**
 * The one module that writes the `calls` table (a unit test holds every other module to reads).
 * Keeps a stored record of every call by listening to the lobby's observer stream. All writes about
 * calls (records, quality samples, meter readings, relay books) go through one queue, in order, so an
 * update never overtakes the insert it follows. On SQLite the queue is written in batches, one
 * transaction each: thousands of calls ending at once (a shutdown) cost one lock per batch, not per
 * statement. Two writes run outside the queue, before or apart from live calls: settling calls a
 * dead process left open, and retention.
 */
export class CallRecords {
  readonly #queue: Write[] = [];
  #flushing = false;
  readonly #db: Db;
  readonly #sqlite: boolean;
  readonly #writes: PendingWrites;

  readonly #nodeId: string | null;

  constructor(storage: Pick<Storage, 'db' | 'kind'>, writes: PendingWrites, nodeId: string | null = null) {
    this.#nodeId = nodeId;
    this.#db = storage.db;
    this.#sqlite = storage.kind === 'sqlite';
    this.#writes = writes;
  }

  /** A new call's record (with several nodes, only the node that matched it keeps one). */
  callMatched(call: Call): void {
    this.#write(call.id, (db) => this.#insert(db, call));
  }

  /** The call moved on (connecting, connected, ended): its record follows. */
  callMoved(call: Call): void {
    this.#write(call.id, (db) => this.#update(db, call));
  }

  /** The meter's reading: billable time so far, each side's last media, its state (and free time once known). */
  meterState(callId: string, r: MeterReading): void {
    this.#write(callId, (db) =>
      db
        .updateTable('calls')
        .set({
          billed_ms: r.billedMs,
          a_media_until: r.aMediaUntil,
          b_media_until: r.bMediaUntil,
          meter_state: r.meterState,
          ...(r.free ? { a_free_ms: r.free.a, b_free_ms: r.free.b } : {}),
        })
        .where('id', '=', callId)
        .execute(),
    );
  }

  /** The call's final billable time. */
  billed(callId: string, ms: number): void {
    this.#write(callId, (db) => db.updateTable('calls').set({ billed_ms: ms }).where('id', '=', callId).execute());
  }

  /**
   * Each person's free time for the call, with the meter's state. `lookUp` runs in the queue, so it
   * reads after every earlier write has landed (the previous call's billable time); what it returns
   * is stored. The promise settles with the write; a failure is also logged as a failed background write.
   */
  freeMinutes(callId: string, lookUp: (db: Db) => Promise<FreeMs & { meterState: string }>): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#write(callId, async (db) => {
        try {
          const f = await lookUp(db);
          await db
            .updateTable('calls')
            .set({ a_free_ms: f.a, b_free_ms: f.b, meter_state: f.meterState })
            .where('id', '=', callId)
            .execute();
          resolve();
        } catch (err) {
          reject(err as Error);
          throw err;
        }
      });
    });
  }

  /** What one side's browser reported: its selected candidate pair (JSON MediaPath), the candidate types it gathered. */
  mediaPaths(callId: string, side: Side, m: { path?: string; gathered?: string }): void {
    // Kysely leaves out the fields that are undefined: only what the browser reported changes.
    const set = side === 'a' ? { a_path: m.path, a_gathered: m.gathered } : { b_path: m.path, b_gathered: m.gathered };
    if (m.path === undefined && m.gathered === undefined) return;
    this.#write(callId, (db) => db.updateTable('calls').set(set).where('id', '=', callId).execute());
  }

  /** One quality sample a browser uploaded for the call. */
  qualitySample(callId: string, sample: Omit<CallQualityTable, 'call_id'>): void {
    this.#write(callId, (db) =>
      db
        .insertInto('call_quality')
        .values({ call_id: callId, ...sample })
        .execute(),
    );
  }

  /** The relay's books: `bytesDelta` more bytes relayed (an increment: several reports, and relays, add up); marks it relayed if `relayed`. */
  relayed(callId: string, bytesDelta: number, relayed: boolean): void {
    this.#write(callId, (db) =>
      db
        .updateTable('calls')
        .set({ bytes_relayed: sql<number>`coalesce(bytes_relayed, 0) + ${bytesDelta}`, ...(relayed ? { relayed: 1 } : {}) })
        .where('id', '=', callId)
        .execute(),
    );
  }

  /** A bounded browser claim (external relays): the call is relayed, and carried `bytes` in all (0: unknown). */
  relayClaimed(callId: string, bytes: number): void {
    this.#write(callId, (db) =>
      db
        .updateTable('calls')
        .set({ relayed: 1, bytes_relayed: bytes > 0 ? bytes : null })
        .where('id', '=', callId)
        .execute(),
    );
  }

  /**
   * Closes a call a dead process left open, as ended by the server at `endedAt` (settlement at start,
   * outside the queue, on `db` or a transaction). Only a call still open: true if this closed it.
   */
  static async closeUnended(db: Db, callId: string, endedAt: number): Promise<boolean> {
    const r = await db
      .updateTable('calls')
      .set({ ended_at: endedAt, end_reason: 'server_shutdown', state: 'ended', ended_by: null })
      .where('id', '=', callId)
      .where('ended_at', 'is', null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /** Retention: deletes calls that ended before `before`, and their quality samples. Returns how many calls. */
  static async prune(db: Db, before: number): Promise<number> {
    await db
      .deleteFrom('call_quality')
      .where('call_id', 'in', db.selectFrom('calls').select('id').where('ended_at', '<', before))
      .execute();
    const r = await db.deleteFrom('calls').where('ended_at', '<', before).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  /** Runs `work` after every earlier write (so after every earlier write for this call). */
  #write(callId: string, work: (db: Db) => Promise<unknown>): void {
    this.#writes.track(
      `call ${callId}`,
      new Promise<void>((resolve, reject) => {
        this.#queue.push({ work, done: (err) => (err === undefined ? resolve() : reject(err)) });
        if (!this.#flushing) {
          this.#flushing = true;
          setImmediate(() => void this.#flush());
        }
      }),
    );
  }

  async #flush(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, 500);
      if (this.#sqlite) {
        // A failing statement rolls back only itself in SQLite: the rest of the batch still lands.
        await this.#db
          .transaction()
          .execute(async (trx) => {
            for (const w of batch)
              await w.work(trx).then(
                () => w.done(),
                (err: unknown) => w.done(err ?? new Error('write failed')),
              );
          })
          .catch((err: unknown) => batch.forEach((w) => w.done(err)));
      } else {
        for (const w of batch)
          await w.work(this.#db).then(
            () => w.done(),
            (err: unknown) => w.done(err ?? new Error('write failed')),
          );
      }
    }
    this.#flushing = false;
  }

  #insert(db: Db, call: Call) {
    return db
      .insertInto('calls')
      .values({
        id: call.id,
        user_a: call.a,
        user_b: call.b,
        state: call.state,
        matched_at: call.at.matched,
        connecting_at: null,
        connected_at: null,
        ended_at: null,
        end_reason: null,
        ended_by: null,
        a_wait_ms: call.waitMs.a,
        b_wait_ms: call.waitMs.b,
        a_path: null,
        b_path: null,
        bytes_relayed: null,
        relay_only: call.relayOnly ? 1 : 0,
        node: this.#nodeId,
        a_gathered: null,
        b_gathered: null,
      })
      .execute();
  }

  #update(db: Db, call: Call) {
    return db
      .updateTable('calls')
      .set({
        state: call.state,
        connecting_at: call.at.connecting ?? null,
        connected_at: call.at.connected ?? null,
        ended_at: call.at.ended ?? null,
        end_reason: call.endReason ?? null,
        ended_by: call.endedBy,
        reconnects: call.reconnects,
        reconnecting_ms: call.reconnectingMs,
      })
      .where('id', '=', call.id)
      .execute();
  }
}
