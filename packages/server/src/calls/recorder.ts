import type { Lobby } from '../lobby/lobby.js';
import type { Db } from '../storage/database.js';
import type { PendingWrites } from '../util/tasks.js';
import type { Call } from './call.js';

/**
 * Keeps a stored record of every call by listening to the lobby's observer stream. Writes for one
 * call are chained so an update never overtakes the insert it follows.
 */
export function recordCalls(lobby: Lobby, db: Db, writes: PendingWrites): void {
  const chains = new Map<string, Promise<unknown>>();

  const write = (call: Call, work: () => Promise<unknown>) => {
    const next = (chains.get(call.id) ?? Promise.resolve()).then(work);
    chains.set(call.id, next);
    writes.track(`call ${call.id}`, next);
    if (call.isOver) void next.finally(() => chains.delete(call.id)).catch(() => undefined);
  };

  const update = (call: Call) =>
    write(call, () =>
      db
        .updateTable('calls')
        .set({
          state: call.state,
          connecting_at: call.at.connecting ?? null,
          connected_at: call.at.connected ?? null,
          ended_at: call.at.ended ?? null,
          end_reason: call.endReason ?? null,
          ended_by: call.endedBy,
        })
        .where('id', '=', call.id)
        .execute(),
    );

  lobby.observer.on('call:matched', (call) =>
    write(call, () =>
      db
        .insertInto('calls')
        .values({ id: call.id, user_a: call.a, user_b: call.b, state: call.state, matched_at: call.at.matched, connecting_at: null, connected_at: null, ended_at: null, end_reason: null, ended_by: null })
        .execute(),
    ),
  );
  lobby.observer.on('call:connecting', update);
  lobby.observer.on('call:connected', update);
  lobby.observer.on('call:ended', update);
}
