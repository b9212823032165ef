import type { ClientMessageOf, ServerMessage } from '@duet/protocol';
import type { Logger } from 'pino';
import type { Call } from '../calls/call.js';
import type { CallRecords } from '../calls/recorder.js';
import { DuetError } from '../errors.js';
import type { Calls } from '../calls/calls.js';
import type { Db } from '../storage/database.js';
import type { Clock } from '../util/clock.js';
import type { PendingWrites } from '../util/tasks.js';
import { postCallCharge } from './charge.js';
import { type Ledger, userAccount } from './ledger.js';
import { freeUsedOn } from './freeMinutes.js';
import { billedUnits, chargeFor, msAffordable, msLeft, paidMs, utcDayStart, type PriceList } from './pricing.js';

export interface MeterOptions {
  /** Ends a call that ran out of credit, time or media. */
  calls: Pick<Calls, 'endById'>;
  ledger: Ledger;
  db: Db;
  records: CallRecords;
  writes: PendingWrites;
  clock: Clock;
  log: Logger;
  send: (userId: string, message: ServerMessage) => void;
  price: PriceList;
  /** Browsers send a heartbeat this often; a longer silence is a gap that is not billed. */
  heartbeatMs: number;
  /** How far a balance may go below zero (0: never). */
  overdraftMicros: number;
  /** The longest a call may stay connected (wall time from connection), whatever it was billed. */
  maxCallMs: number;
  /**
   * A connected call whose billable time has not grown for this long is ended (default 90 s): the
   * call that silently fails to end, and the call kept alive by heartbeats too sparse to bill.
   */
  silenceMs?: number;
  /** Free billable time per person per UTC day, used before any is paid (default 0: none). */
  dailyFreeMs?: number;
}

interface SideState {
  lastBytes: number;
  lastSeq: number;
  /** Server time of the last heartbeat whose byte counter grew. */
  lastEvidence: number;
  /** Start of the current unbroken run of evidence. */
  runStart: number;
}

interface Side extends SideState {
  userId: string;
}

/** The meter's view of a call, stored with it on every heartbeat, so a restarted server can continue it. */
export interface MeterState {
  v: 1;
  billedMs: number;
  billedUntil: number;
  a: SideState;
  b: SideState;
  /** Each person's free time for this call, fixed when it connected (absent: none). */
  free?: { a: number; b: number };
  /** Server time at which the billable time last grew, or the call connected (absent in older rows). */
  grewAt?: number;
}

/** A stored MeterState, or null when it is missing or not one (an older row, a hand edit). */
export function parseMeterState(json: string | null): MeterState | null {
  if (json === null) return null;
  try {
    const s = JSON.parse(json) as Partial<MeterState>;
    const side = (x: unknown): x is SideState =>
      typeof x === 'object' &&
      x !== null &&
      ['lastBytes', 'lastSeq', 'lastEvidence', 'runStart'].every((k) => Number.isFinite((x as Record<string, unknown>)[k]));
    if (s.v !== 1 || !Number.isFinite(s.billedMs) || !Number.isFinite(s.billedUntil) || !side(s.a) || !side(s.b)) return null;
    // Rows written before daily free minutes have no `free`; a malformed one is not a MeterState.
    if (
      s.free !== undefined &&
      !(typeof s.free === 'object' && s.free !== null && [s.free.a, s.free.b].every((x) => Number.isFinite(x) && x >= 0))
    )
      return null;
    if (s.grewAt !== undefined && !Number.isFinite(s.grewAt)) return null;
    return s as MeterState;
  } catch {
    return null;
  }
}

interface Metered {
  call: Call;
  sides: { a: Side; b: Side };
  billedMs: number;
  billedUntil: number;
  /** When the billable time last grew (the call's connection until it first does): the silence watch's clock. */
  grewAt: number;
  /** Each person's free time for this call: unset until looked up (and when there is none). */
  free: { a: number; b: number } | undefined;
  /** What each person has been charged for this call so far (their own minutes). */
  charged: Map<string, number>;
  warned: Set<string>;
  /** Charges for one person run one after another: each reads what the previous one posted. */
  chains: Map<string, Promise<void>>;
  /** Stops the watch that ends a call whose billing stands still, or that reached the length cap. */
  unwatch?: () => void;
}

/**
 * The server-authoritative meter. A call is billable only while both browsers report media
 * arriving (heartbeats whose received-byte counters grow), measured on the server's clock: client
 * clocks are never trusted. Charges are posted as the billable time grows, each with an idempotency
 * ref naming the call, the person and the units billed, so duplicated, replayed or reordered
 * heartbeats — and a restart — can never charge twice. A connected call cannot outlive its billing:
 * it ends once its billable time has stood still for `silenceMs`, and `maxCallMs` after it connected.
 */
export class Meter {
  readonly #calls = new Map<string, Metered>();
  readonly #o: MeterOptions;

  constructor(options: MeterOptions) {
    this.#o = options;
  }

  get free(): boolean {
    return this.#o.price.perMinuteMicros === 0;
  }

  /** Free billable time per person per UTC day (0: none, also when calls are free anyway). */
  get dailyFreeMs(): number {
    return this.free ? 0 : (this.#o.dailyFreeMs ?? 0);
  }

  /** What is left of the person's free time today (UTC, on the server's clock). */
  async freeLeftToday(userId: string): Promise<number> {
    if (this.dailyFreeMs === 0) return 0;
    return Math.max(0, this.dailyFreeMs - (await freeUsedOn(this.#o.db, userId, utcDayStart(this.#o.clock.now()))));
  }

  /** Someone without credit (and without free time left today) cannot queue, and is told how to top up. */
  async assertCanQueue(userId: string): Promise<void> {
    if (this.free) return;
    if ((await this.freeLeftToday(userId)) >= 1_000) return;
    const balance = await this.#o.ledger.balance(userAccount(userId));
    if (msAffordable(balance + this.#o.overdraftMicros, 0, this.#o.price) < (this.#o.price.rounding === 'minute' ? 60_000 : 1_000)) {
      throw new DuetError('insufficient_credits');
    }
  }

  /** The billable time so far of a call this node is metering (undefined once it has ended, or if it is not). */
  billedMs(callId: string): number | undefined {
    return this.#calls.get(callId)?.billedMs;
  }

  heartbeat(userId: string, m: ClientMessageOf<'heartbeat'>): void {
    const t = this.#calls.get(m.callId);
    if (!t || !t.call.has(userId)) throw new DuetError('not_in_call');
    // A heartbeat that beats the watch's timer to an overdue call ends it: no evidence past the end.
    if (this.#overdue(t) !== null) return this.#endOverdue(t);
    const side = t.sides[t.call.sideOf(userId)];
    if (m.seq <= side.lastSeq) return; // duplicated, replayed or late: changes nothing
    side.lastSeq = m.seq;
    if (m.bytesReceived <= side.lastBytes) {
      this.#store(t); // no media since the last one: no evidence (but the sequence number moved on)
      return;
    }
    side.lastBytes = m.bytesReceived;
    const now = this.#o.clock.now();
    if (now - side.lastEvidence > 2 * this.#o.heartbeatMs) side.runStart = now; // after a gap, a new run
    side.lastEvidence = now;
    this.#advance(t);
  }

  /**
   * A call a previous process was metering, which its people came back to after a restart
   * (lobby.restore): metering continues from the stored state, and what each person was already
   * charged comes from the ledger, so nothing is charged twice.
   */
  restore(call: Call, state: MeterState, charged: { a: number; b: number }): void {
    const side = (userId: string, s: SideState): Side => ({
      userId,
      lastBytes: s.lastBytes,
      lastSeq: s.lastSeq,
      lastEvidence: s.lastEvidence,
      runStart: s.runStart,
    });
    this.#calls.set(call.id, {
      call,
      sides: { a: side(call.a, state.a), b: side(call.b, state.b) },
      billedMs: state.billedMs,
      billedUntil: state.billedUntil,
      // The silence clock runs on through the restart (the downtime was not billed either); a row
      // written before it was stored starts it at the restore.
      grewAt: state.grewAt ?? this.#o.clock.now(),
      free: state.free ? { a: state.free.a, b: state.free.b } : undefined,
      charged: new Map([
        [call.a, charged.a],
        [call.b, charged.b],
      ]),
      warned: new Set(),
      chains: new Map(),
    });
    this.#watch(this.#calls.get(call.id)!);
  }

  /**
   * Ends the call when its billable time has not grown for `silenceMs` (heartbeats stopped, their
   * counters stopped growing, or they come too sparsely to bill), or when it has been connected for
   * `maxCallMs`: no pattern of heartbeats keeps a call open while its billing stands still.
   */
  #watch(t: Metered): void {
    const at = Math.min(t.grewAt + this.#silenceMs, this.#capAt(t));
    t.unwatch = this.#o.clock.after(Math.max(0, at - this.#o.clock.now()), () => {
      if (this.#calls.get(t.call.id) !== t) return;
      if (this.#overdue(t) === null) return this.#watch(t);
      this.#endOverdue(t);
    });
  }

  get #silenceMs(): number {
    return this.#o.silenceMs ?? 90_000;
  }

  /** The length cap counts wall time from the connection (a restored call keeps its connection time). */
  #capAt(t: Metered): number {
    return (t.call.at.connected ?? t.billedUntil) + this.#o.maxCallMs;
  }

  #overdue(t: Metered): 'cap' | 'silence' | null {
    const now = this.#o.clock.now();
    if (now >= this.#capAt(t)) return 'cap';
    if (now - t.grewAt >= this.#silenceMs) return 'silence';
    return null;
  }

  #endOverdue(t: Metered): void {
    const why = this.#overdue(t);
    if (why === 'cap') this.#o.log.warn({ callId: t.call.id, billedMs: t.billedMs }, 'call reached the length cap');
    else
      this.#o.log.warn(
        { callId: t.call.id, billedMs: t.billedMs, stillMs: this.#o.clock.now() - t.grewAt },
        'billing in a call stood still for too long; ending it',
      );
    // Billed exactly what the evidence says so far; the final charges follow from the call's end.
    this.#o.calls.endById(t.call.id, 'connection_lost', null);
  }

  /** A call connected: metering starts (only on its primary node: see server/lifecycle.ts). */
  callConnected(call: Call): void {
    const at = call.at.connected!;
    const side = (userId: string): Side => ({ userId, lastBytes: 0, lastSeq: -1, lastEvidence: at, runStart: at });
    const t: Metered = {
      call,
      sides: { a: side(call.a), b: side(call.b) },
      billedMs: 0,
      billedUntil: at,
      grewAt: at,
      free: undefined,
      charged: new Map(),
      warned: new Set(),
      chains: new Map(),
    };
    this.#calls.set(call.id, t);
    this.#store(t);
    this.#watch(t);
    if (this.dailyFreeMs > 0) {
      // The first link of both people's charge chains: no charge is computed before it is known.
      const lookup = this.#lookUpFree(t, at);
      for (const userId of [call.a, call.b])
        t.chains.set(
          userId,
          lookup.catch(() => undefined),
        );
    }
  }

  /**
   * Each person's free time for this call, fixed once as it connects: the day's allowance less what
   * their earlier calls that UTC day used. Read in the call-records queue, so every earlier write
   * (the previous call's last billable time) has landed; stored with the call. If it cannot be read,
   * the call has no free time (logged as a failed background write).
   */
  #lookUpFree(t: Metered, at: number): Promise<void> {
    const perDay = this.dailyFreeMs;
    const day = utcDayStart(at);
    const { call } = t;
    return this.#o.records.freeMinutes(call.id, async (db) => {
      const left = async (userId: string) => Math.max(0, perDay - (await freeUsedOn(db, userId, day, call.id)));
      t.free = { a: await left(call.a), b: await left(call.b) };
      return { ...t.free, meterState: JSON.stringify(this.#state(t)) };
    });
  }

  /** Billable time grows to the last moment both sides had media, counting only unbroken runs. */
  #advance(t: Metered): void {
    const { a, b } = t.sides;
    const frontier = Math.min(a.lastEvidence, b.lastEvidence);
    const from = Math.max(t.billedUntil, a.runStart, b.runStart);
    if (frontier > from && t.billedMs < this.#o.maxCallMs) {
      // Billed time never exceeds the connected wall time, so the cap's clamp only guards a late timer.
      t.billedMs = Math.min(this.#o.maxCallMs, t.billedMs + frontier - from);
      t.grewAt = this.#o.clock.now();
    }
    t.billedUntil = Math.max(t.billedUntil, frontier);
    this.#store(t);
    for (const s of [a, b]) this.#queueCharge(t, s.userId, false);
  }

  #state(t: Metered): MeterState {
    const sideState = (s: Side): SideState => ({
      lastBytes: s.lastBytes,
      lastSeq: s.lastSeq,
      lastEvidence: s.lastEvidence,
      runStart: s.runStart,
    });
    return {
      v: 1,
      billedMs: t.billedMs,
      billedUntil: t.billedUntil,
      a: sideState(t.sides.a),
      b: sideState(t.sides.b),
      ...(t.free ? { free: { ...t.free } } : {}),
      grewAt: t.grewAt,
    };
  }

  /** The call's billable time and the meter's state, written with the call's record. */
  #store(t: Metered): void {
    const state = this.#state(t);
    this.#o.records.meterState(t.call.id, {
      billedMs: state.billedMs,
      aMediaUntil: state.a.lastEvidence,
      bMediaUntil: state.b.lastEvidence,
      meterState: JSON.stringify(state),
      free: state.free,
    });
  }

  callEnded(call: Call): void {
    const t = this.#calls.get(call.id);
    if (!t) return;
    this.#calls.delete(call.id);
    t.unwatch?.();
    // Closed at the last evidence of media, not when the silence was noticed: nothing more to add.
    this.#o.records.billed(call.id, t.billedMs);
    for (const userId of [call.a, call.b]) this.#queueCharge(t, userId, true);
  }

  #queueCharge(t: Metered, userId: string, final: boolean): void {
    const next = (t.chains.get(userId) ?? Promise.resolve()).then(() => this.#charge(t, userId, final));
    t.chains.set(
      userId,
      next.catch(() => undefined),
    );
    this.#o.writes.track(final ? 'final charge' : 'charge', next);
  }

  async #charge(t: Metered, userId: string, final: boolean): Promise<void> {
    const { price } = this.#o;
    // Free time first; the rounding applies to the paid remainder, whose units name the charge.
    const free = t.free?.[t.call.sideOf(userId)] ?? 0;
    const paid = paidMs(t.billedMs, free);
    const target = chargeFor(paid, price);
    const done = t.charged.get(userId) ?? 0;
    const callId = t.call.id;
    if (target > done) {
      const units = billedUnits(paid, price.rounding);
      const meta = { callId, units, rounding: price.rounding, billedMs: t.billedMs, ...(free > 0 ? { freeMs: free } : {}) };
      const outcome = await postCallCharge(
        this.#o.ledger,
        { callId, userId, units, amount: target - done, overdraftMicros: this.#o.overdraftMicros, meta },
        this.#o.clock.now(),
      );
      if (outcome.kind === 'short') {
        // The balance ran out: what it could cover is charged, and the call ends.
        if (outcome.amount > 0) t.charged.set(userId, done + outcome.amount);
        if (!final) this.#o.calls.endById(callId, 'insufficient_credits', userId);
        return;
      }
      t.charged.set(userId, target);
    }
    if (price.perMinuteMicros === 0) {
      // Free: the minutes are still metered and shown during the call, and no balance is ever read.
      if (!final) this.#o.send(userId, { type: 'billing', callId, billedMs: t.billedMs, chargedMicros: 0, balanceMicros: 0 });
      return;
    }
    const balance = await this.#o.ledger.balance(userAccount(userId));
    this.#o.send(userId, {
      type: 'billing',
      callId,
      billedMs: t.billedMs,
      chargedMicros: t.charged.get(userId) ?? 0,
      balanceMicros: balance,
      ...(free > 0 ? { freeMs: free } : {}),
    });
    if (final) return;
    const left = msLeft(balance + this.#o.overdraftMicros, t.billedMs, free, price);
    if (left <= 0) {
      this.#o.calls.endById(callId, 'insufficient_credits', userId);
    } else if (left <= 60_000 && !t.warned.has(userId)) {
      t.warned.add(userId);
      this.#o.send(userId, { type: 'credit_low', callId, secondsLeft: Math.floor(left / 1000) });
    }
  }
}
