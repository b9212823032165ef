import type { Lobby } from '../lobby/lobby.js';
import type { Db } from '../storage/database.js';
import type { PendingWrites } from '../util/tasks.js';
import type { Call } from './call.js';

/**
 * Keeps a stored record of every call by listening to the lobby's observer stream. Writes for one
 * call go through one chain, so an update (or a quality sample) never overtakes the insert it
 * follows; all of them are tracked so shutdown can wait for them.
 */
export class CallRecords {
  readonly #chains = new Map<string, Promise<unknown>>();
  readonly #db: Db;
  readonly #writes: PendingWrites;

  constructor(lobby: Lobby, db: Db, writes: PendingWrites) {
    this.#db = db;
    this.#writes = writes;
    // With several nodes, the node that matched a call (its primary) keeps its record.
    lobby.observer.on('call:matched', (call) => call.primary && this.write(call.id, () => this.#insert(call)));
    lobby.observer.on('call:connecting', (call) => call.primary && this.write(call.id, () => this.#update(call)));
    lobby.observer.on('call:connected', (call) => call.primary && this.write(call.id, () => this.#update(call)));
    lobby.observer.on('call:ended', (call) => {
      if (call.primary) this.write(call.id, () => this.#update(call));
      // Keep the chain a little longer: final quality samples arrive just after the end.
      setTimeout(() => this.#chains.delete(call.id), 60_000).unref();
    });
  }

  /** Runs `work` after every earlier write for this call. */
  write(callId: string, work: () => Promise<unknown>): void {
    const next = (this.#chains.get(callId) ?? Promise.resolve()).then(work);
    this.#chains.set(callId, next.catch(() => undefined));
    this.#writes.track(`call ${callId}`, next);
  }

  #insert(call: Call) {
    return this.#db
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
        a_gathered: null,
        b_gathered: null,
      })
      .execute();
  }

  #update(call: Call) {
    return this.#db
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
