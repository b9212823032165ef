import type { FunnelStep } from '@duet/protocol';
import type { Call } from '../calls/call.js';
import type { Db } from '../storage/database.js';
import { TurnBatch } from '../util/batch.js';
import type { Clock } from '../util/clock.js';
import type { PendingWrites } from '../util/tasks.js';

type FunnelRow = { day: string; step: FunnelStep; user_id: string };

export const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const DAY_MS = 86_400_000;

/**
 * The funnel, page opened → camera allowed → queued → matched → connected → talked 30 s, as unique
 * people per step per UTC day. Repeats are absorbed in memory first and by the primary key last.
 * Steps are written a quarter second at a time; a shutdown (or anything waiting for the writes) writes
 * them at once.
 */
export class Funnel {
  readonly #seen = new Set<string>();
  #day = '';
  /** When `#day` ends (ms): the date is worked out once a day, not per step. */
  #dayEnds = 0;
  readonly #db: Db;
  readonly #clock: Clock;
  readonly #writes: PendingWrites;
  // Nobody waits on a funnel step: a quarter second's steps are written together, in statements of
  // at most 250 rows with a turn of the event loop between them (one statement per turn was a fifth
  // of a newcomer's database time; a second's worth at once held the event loop for tens of ms).
  readonly #rows = new TurnBatch<FunnelRow>((rows) => this.#insert(rows), { windowMs: 250, max: 250 });

  constructor(db: Db, clock: Clock, writes: PendingWrites) {
    this.#db = db;
    this.#clock = clock;
    this.#writes = writes;
    writes.beforeFlush(() => this.#rows.flush());
  }

  callMatched(call: Call): void {
    this.record(call.a, 'matched');
    this.record(call.b, 'matched');
  }

  callConnected(call: Call): void {
    this.record(call.a, 'connected');
    this.record(call.b, 'connected');
  }

  callEnded(call: Call): void {
    if ((call.talkMs ?? 0) >= 30_000) {
      this.record(call.a, 'talked_30s');
      this.record(call.b, 'talked_30s');
    }
  }

  record(userId: string, step: FunnelStep): void {
    const now = this.#clock.now();
    if (now >= this.#dayEnds || now < this.#dayEnds - DAY_MS) {
      this.#day = dayOf(now);
      this.#dayEnds = (Math.floor(now / DAY_MS) + 1) * DAY_MS;
      this.#seen.clear();
    }
    const day = this.#day;
    const key = `${step}|${userId}`;
    if (this.#seen.has(key)) return;
    this.#seen.add(key);
    this.#writes.track('funnel', this.#rows.add({ day, step, user_id: userId }));
  }

  async #insert(rows: FunnelRow[]): Promise<void> {
    await this.#db
      .insertInto('funnel')
      .values(rows)
      .onConflict((oc) => oc.columns(['day', 'step', 'user_id']).doNothing())
      .execute();
  }
}
