import type { Db, Storage } from '../storage/database.js';
import type { PendingWrites } from '../util/tasks.js';
import type { Call } from './call.js';

type Write = { work: (db: Db) => Promise<unknown>; done: (err?: unknown) => void };

/**
 * Keeps a stored record of every call by listening to the lobby's observer stream. All writes about
 * calls (records, quality samples, meter readings) go through one queue, in order, so an update never
 * overtakes the insert it follows. On SQLite the queue is written in batches, one transaction each:
 * thousands of calls ending at once (a shutdown) cost one lock per batch, not per statement.
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
    this.write(call.id, (db) => this.#insert(db, call));
  }

  /** The call moved on (connecting, connected, ended): its record follows. */
  callMoved(call: Call): void {
    this.write(call.id, (db) => this.#update(db, call));
  }

  /** Runs `work` after every earlier write (so after every earlier write for this call). */
  write(callId: string, work: (db: Db) => Promise<unknown>): void {
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
            for (const w of batch) await w.work(trx).then(() => w.done(), (err: unknown) => w.done(err ?? new Error('write failed')));
          })
          .catch((err: unknown) => batch.forEach((w) => w.done(err)));
      } else {
        for (const w of batch) await w.work(this.#db).then(() => w.done(), (err: unknown) => w.done(err ?? new Error('write failed')));
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
