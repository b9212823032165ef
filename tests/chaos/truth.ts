/**
 * The chaos test's own account of what every call must be billed, written from the billing rules in
 * docs/billing.md and sharing no code with the server's meter. The meter advances a frontier as
 * heartbeats arrive; this model instead collects each side's evidence and measures, with interval
 * arithmetic, the time both sides were covered.
 */

export interface TruthRules {
  heartbeatMs: number;
  graceMs: number;
  capMs: number;
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
  /** Why the call ended in the model (the earliest of the planned ends, or the cap). */
  endedAt: number;
  cappedAt: number | null;
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
 * What a call must be billed. `received` is in the order the server processed it (per side, the
 * order it was sent); `endsAt` are the times at which something ends the call (a leave, a grace
 * window running out): evidence at or after the earliest of them is refused.
 */
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

export function billCall(connectedAt: number, received: readonly Received[], endsAt: readonly number[], rules: TruthRules): CallTruth {
  let end = Math.min(Infinity, ...endsAt);
  const evidence = { a: [] as number[], b: [] as number[] };
  let billed = 0;
  let cappedAt: number | null = null;
  for (const r of evidenceOf(received)) {
    if (r.t >= end) break;
    evidence[r.side].push(r.t);
    billed = overlap(covered(connectedAt, evidence.a, rules.heartbeatMs), covered(connectedAt, evidence.b, rules.heartbeatMs));
    if (billed >= rules.capMs) {
      billed = rules.capMs;
      cappedAt = r.t;
      end = r.t;
      break;
    }
  }
  return { billedMs: billed, endedAt: end, cappedAt };
}

/** Per second: ⌊seconds × price / 60⌋, cumulative over the call (docs/billing.md). */
export function chargePerSecond(billedMs: number, perMinuteMicros: number): number {
  return Math.floor((Math.floor(billedMs / 1000) * perMinuteMicros) / 60);
}
