/**
 * What happens in one simulated call, drawn from a seeded PRNG: each browser's heartbeats on its
 * own skewed, drifting clock, with drops, duplicates, reorders and replays; at most one disruption
 * (frozen media, a silent side, a signaling drop or an ICE drop, recovered inside or outside the
 * grace window, or the starvation attack: one side beating only every fourth interval, from the
 * start or from some moment on, to the end); and who leaves when. Times are server milliseconds on
 * a 100 ms grid.
 */

export type Side = 'a' | 'b';

export type PlanEvent =
  /** Heartbeat messages, sent in this order (a reorder or a replay sends two). */
  | { t: number; kind: 'hb'; side: Side; messages: Array<{ seq: number; bytes: number }> }
  | { t: number; kind: 'leave'; side: Side }
  /** The signaling socket drops; `rejoin` opens a new one. */
  | { t: number; kind: 'drop'; side: Side }
  | { t: number; kind: 'rejoin'; side: Side }
  /** The browser's peer connection goes down or comes back. */
  | { t: number; kind: 'ice'; side: Side; state: 'disconnected' | 'connected' };

export interface PlanOptions {
  heartbeatMs: number;
  graceMs: number;
  /** No disruption (and no leave) may fall in this window: a crash of the server happens there. */
  quiet?: [number, number];
}

export interface Tally {
  heartbeats: number;
  dropped: number;
  duplicated: number;
  reordered: number;
  replayed: number;
  frozen: number;
  disruptions: Record<string, number>;
}

export const emptyTally = (): Tally => ({
  heartbeats: 0,
  dropped: 0,
  duplicated: 0,
  reordered: 0,
  replayed: 0,
  frozen: 0,
  disruptions: {},
});

const GRID = 100;
const grid = (t: number) => Math.ceil(t / GRID) * GRID;

const KINDS = [
  'none',
  'none',
  'none',
  'none',
  'frozen',
  'silent',
  'signal-in',
  'signal-in',
  'signal-out',
  'ice-in',
  'ice-out',
  'sparse',
] as const;
export type Disruption = (typeof KINDS)[number];

export function planCall(
  rand: () => number,
  connectedAt: number,
  o: PlanOptions,
  tally: Tally,
): { disruption: Disruption; events: PlanEvent[] } {
  const H = o.heartbeatMs;
  const between = (lo: number, hi: number) => lo + rand() * (hi - lo);
  const pick = rand();
  // At most one disruption, away from a crash (the sparse side has no socket events: it may span one).
  let kind: Disruption = KINDS[Math.floor(rand() * KINDS.length)]!;
  // A starving call is a long one: long enough for its billing to stand still past the silence limit.
  const durationMs = grid(
    kind === 'sparse'
      ? between(60_000, 190_000)
      : pick < 0.3
        ? between(8_000, 30_000)
        : pick < 0.82
          ? between(30_000, 100_000)
          : between(100_000, 190_000),
  );
  let end = connectedAt + durationMs;
  const inQuiet = (t0: number, t1: number) => o.quiet !== undefined && t1 >= o.quiet[0] && t0 <= o.quiet[1];
  if (inQuiet(end - GRID, end + GRID)) end = grid(o.quiet![1] + between(1_000, 20_000));

  const who: Side = rand() < 0.5 ? 'a' : 'b';
  // Sparse beats from the start in half the starving calls, from a moment in the call in the others.
  const dStart = kind === 'sparse' && rand() < 0.5 ? connectedAt : grid(connectedAt + between(3_000, Math.max(3_100, durationMs - 20_000)));
  const dLen =
    kind === 'sparse'
      ? end - dStart
      : kind === 'frozen' || kind === 'silent'
        ? grid(between(3 * H, 6 * H))
        : kind.endsWith('-in')
          ? grid(between(1_000, o.graceMs - 2_000))
          : grid(between(o.graceMs + 1_000, o.graceMs + 10_000));
  if (kind !== 'none' && kind !== 'sparse' && (dStart + dLen + GRID >= end || inQuiet(dStart - 2 * H, dStart + dLen + o.graceMs + 2 * H)))
    kind = 'none';
  tally.disruptions[kind] = (tally.disruptions[kind] ?? 0) + 1;
  const dEnd = dStart + dLen;
  const during = (t: number) => t >= dStart && t < dEnd;

  const events: PlanEvent[] = [];
  if (kind === 'signal-in' || kind === 'signal-out') {
    events.push({ t: dStart, kind: 'drop', side: who }, { t: dEnd, kind: 'rejoin', side: who });
  } else if (kind === 'ice-in' || kind === 'ice-out') {
    events.push({ t: dStart, kind: 'ice', side: who, state: 'disconnected' });
    if (kind === 'ice-in') events.push({ t: dEnd, kind: 'ice', side: who, state: 'connected' });
  }

  for (const side of ['a', 'b'] as const) {
    // The browser's clock: off by up to five minutes and running up to 3% fast or slow. It beats on
    // its own whole multiples of the interval, so skew sets the phase and drift the spacing.
    const skew = between(-300_000, 300_000);
    const rate = 1 + between(-0.03, 0.03);
    const localAt = (t: number) => skew + (t - connectedAt) * rate;
    const firstLocal = Math.ceil(localAt(connectedAt + 1) / H) * H;
    const beats: Array<{ t: number; seq: number; bytes: number; send: boolean }> = [];
    let seq = 0;
    let bytes = 0;
    for (let k = 0; ; k++) {
      const t = grid(connectedAt + (firstLocal + k * H - skew) / rate);
      if (t >= end) break;
      // The starving side beats every fourth interval only (its counters still grow: media flows).
      if (kind === 'sparse' && side === who && t >= dStart && k % 4 !== 0) continue;
      seq += 1;
      const mediaDown = (kind === 'ice-in' || kind === 'ice-out') && t >= dStart && (kind === 'ice-out' || t < dEnd);
      const frozen = mediaDown || (kind === 'frozen' && side === who && during(t)) || rand() < 0.04;
      if (!frozen) bytes += 40_000 + Math.floor(rand() * 120_000);
      else tally.frozen += 1;
      const silent = (kind === 'silent' && side === who && during(t)) || rand() < 0.05;
      if (silent) tally.dropped += 1;
      beats.push({ t, seq, bytes, send: !silent });
    }
    for (let i = 0; i < beats.length; i++) {
      const beat = beats[i]!;
      if (!beat.send) continue;
      const r = rand();
      const next = beats[i + 1];
      if (r < 0.06 && next?.send) {
        // Reordered: this beat arrives just after the next one.
        tally.reordered += 1;
        events.push({
          t: next.t,
          kind: 'hb',
          side,
          messages: [
            { seq: next.seq, bytes: next.bytes },
            { seq: beat.seq, bytes: beat.bytes },
          ],
        });
        next.send = false;
        continue;
      }
      const messages = [{ seq: beat.seq, bytes: beat.bytes }];
      if (r < 0.14) {
        tally.duplicated += 1;
        messages.push({ ...messages[0]! });
      } else if (r < 0.17 && i >= 3) {
        tally.replayed += 1;
        const old = beats[i - 3]!;
        messages.push({ seq: old.seq, bytes: old.bytes });
      }
      tally.heartbeats += 1;
      events.push({ t: beat.t, kind: 'hb', side, messages });
    }
  }
  // Whoever leaves, leaves alone: no heartbeat of this call at that instant, so the order in which
  // the server reads the two sockets cannot matter.
  const leaver: Side = rand() < 0.5 ? 'a' : 'b';
  return { disruption: kind, events: [...events.filter((e) => e.t !== end), { t: end, kind: 'leave', side: leaver }] };
}
