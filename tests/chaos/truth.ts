/**
 * The chaos test's own account of what every call must be billed, written from the billing rules in
 * docs/billing.md and sharing no code with the server's meter. The meter advances a frontier as
 * heartbeats arrive; this model instead collects each side's evidence and measures, with interval
 * arithmetic, the time both sides were covered.
 */

export interface TruthRules {
  heartbeatMs: number;
  graceMs: number;
  /** The length cap: a call ends this long after it connected (wall time), whatever it was billed. */
  capMs: number;
  /** A call whose billable time has not grown for this long (since it connected, or last grew) ends. */
  silenceMs: number;
}

/** A heartbeat as the server received it: server time, which side, its sequence number and byte counter. */
export interface Received {
  t: number;
  side: 'a' | 'b';
  seq: number;
  bytes: number;
}

export interface CallTruth {
  billedMs: number;
  /** When the call ends in the model: the earliest of the planned ends, the length cap and the silence rule. */
  endedAt: number;
  /** When the meter ends it (the cap, or billing that stood still), if that comes before every planned end. */
  meterEndedAt: number | null;
}

type Interval = [number, number];

/** Where a side had media: from one piece of evidence to the next, unless the gap exceeds two heartbeats. */
export function covered(connectedAt: number, evidence: readonly number[], heartbeatMs: number): Interval[] {
  const out: Interval[] = [];
  let prev = connectedAt;
  for (const t of evidence) {
    if (t - prev <= 2 * heartbeatMs && t > prev) out.push([prev, t]);
    prev = t;
  }
  return out;
}

/** The total length of the intersection of two sets of intervals. */
export function overlap(x: readonly Interval[], y: readonly Interval[]): number {
  let total = 0;
  for (const [a0, a1] of x) {
    for (const [b0, b1] of y) {
      const lo = Math.max(a0, b0);
      const hi = Math.min(a1, b1);
      if (hi > lo) total += hi - lo;
    }
  }
  return total;
}

/**
 * The heartbeats that are evidence of media, in the order the server takes them: a higher sequence
 * number than any before from that side, and a byte counter that grew.
 */
export function* evidenceOf(received: readonly Received[]): Generator<Received> {
  const seen = { a: { seq: -1, bytes: 0 }, b: { seq: -1, bytes: 0 } };
  const ordered = received.map((r, i) => ({ r, i })).sort((x, y) => x.r.t - y.r.t || x.i - y.i);
  for (const { r } of ordered) {
    const s = seen[r.side];
    if (r.seq <= s.seq) continue; // duplicated, replayed, reordered: nothing
    s.seq = r.seq;
    if (r.bytes <= s.bytes) continue; // no media since the previous one
    s.bytes = r.bytes;
    yield r;
  }
}

/**
 * What a call must be billed, and when it ends. `received` is in the order the server processed it
 * (per side, the order it was sent); `endsAt` are the times at which something ends the call (a
 * leave, a grace window running out). The meter ends it too: `capMs` after it connected, and
 * `silenceMs` after the billable time last grew (or the call connected). Evidence at or after the
 * end is refused.
 */
export function billCall(connectedAt: number, received: readonly Received[], endsAt: readonly number[], rules: TruthRules): CallTruth {
  const planned = Math.min(Infinity, ...endsAt);
  const capAt = connectedAt + rules.capMs;
  const evidence = { a: [] as number[], b: [] as number[] };
  let billed = 0;
  let grewAt = connectedAt;
  for (const r of evidenceOf(received)) {
    if (r.t >= Math.min(planned, capAt, grewAt + rules.silenceMs)) break;
    evidence[r.side].push(r.t);
    const total = overlap(covered(connectedAt, evidence.a, rules.heartbeatMs), covered(connectedAt, evidence.b, rules.heartbeatMs));
    if (total > billed) {
      billed = total;
      grewAt = r.t;
    }
  }
  const meterEnd = Math.min(capAt, grewAt + rules.silenceMs);
  return { billedMs: billed, endedAt: Math.min(planned, meterEnd), meterEndedAt: meterEnd < planned ? meterEnd : null };
}

/** Per second: ⌊seconds × price / 60⌋, cumulative over the call (docs/billing.md). */
export function chargePerSecond(billedMs: number, perMinuteMicros: number): number {
  return Math.floor((Math.floor(billedMs / 1000) * perMinuteMicros) / 60);
}
