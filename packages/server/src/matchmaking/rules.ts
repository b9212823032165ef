/**
 * Matching rules: pure functions of two tickets, the time and the policy. No I/O, no clocks, no
 * randomness, so every rule is unit- and property-testable and both pool stores share them.
 */

export interface MatchPolicy {
  /** Until a person has waited this long, they need someone sharing an interest (if they gave any). */
  readonly interestsRequiredMs: number;
  /** Until a person has waited this long, a region they chose is required. */
  readonly regionRequiredMs: number;
  /** Avoid the last `recentCount` partners met within `recentWindowMs`... */
  readonly recentCount: number;
  readonly recentWindowMs: number;
  /**
   * ...except in a tiny pool: when at most this many people wait in the person's mode and language
   * and they have waited `relaxRecentAfterMs`, meeting a recent partner again beats waiting alone.
   * Blocks are never relaxed.
   */
  readonly smallPool: number;
  readonly relaxRecentAfterMs: number;
}

export const DEFAULT_POLICY: MatchPolicy = Object.freeze({
  interestsRequiredMs: 10_000,
  regionRequiredMs: 30_000,
  recentCount: 5,
  recentWindowMs: 30 * 60_000,
  smallPool: 3,
  relaxRecentAfterMs: 20_000,
});

export interface Ticket {
  readonly userId: string;
  /** Operator-defined mode; people only meet within one mode. */
  readonly mode: string;
  /** People only meet when they speak the same language. */
  readonly language: string;
  readonly region: string | undefined;
  readonly interests: readonly string[];
  /** When this wait began; a re-join keeps it, so nobody moves forward or back. */
  readonly joinedAt: number;
  /** Never matched with these, in either direction, whatever the pool. */
  readonly blocked: ReadonlySet<string>;
  /** Recent partners, newest last. */
  readonly recent: ReadonlyArray<{ readonly userId: string; readonly at: number }>;
  /** The Duet node the person is connected to (several nodes share one Redis pool). */
  readonly node?: string;
  /** Has unreviewed reports against them; such people only meet each other (operator setting). */
  readonly held?: boolean;
  /** Passed the liveness check. */
  readonly verified?: boolean;
  /** Meets only people who passed the liveness check. */
  readonly verifiedOnly?: boolean;
}

export type Stage = 'strict' | 'interests' | 'region';

/** How far this person's matching has widened: strict, interests made optional, region dropped too. */
export function stageOf(t: Ticket, now: number, policy: MatchPolicy): Stage {
  const waited = now - t.joinedAt;
  if (waited >= policy.regionRequiredMs) return 'region';
  if (waited >= policy.interestsRequiredMs) return 'interests';
  return 'strict';
}

export function sharedInterests(a: Ticket, b: Ticket): number {
  let n = 0;
  for (const tag of a.interests) if (b.interests.includes(tag)) n += 1;
  return n;
}

/** Whether `t` met `other` among their last `recentCount` partners within `recentWindowMs`. */
export function metRecently(t: Ticket, other: string, now: number, policy: MatchPolicy): boolean {
  const recent = t.recent;
  for (let i = recent.length - 1, seen = 0; i >= 0 && seen < policy.recentCount; i--, seen++) {
    const r = recent[i]!;
    if (now - r.at > policy.recentWindowMs) break;
    if (r.userId === other) return true;
  }
  return false;
}

/** Whether `t`'s own requirements accept `other` at time `now`. */
function accepts(t: Ticket, other: Ticket, now: number, policy: MatchPolicy, poolSize: number): boolean {
  const stage = stageOf(t, now, policy);
  if (stage === 'strict' && t.interests.length > 0 && sharedInterests(t, other) === 0) return false;
  if (stage !== 'region' && t.region !== undefined && t.region !== other.region) return false;
  if (metRecently(t, other.userId, now, policy)) {
    const relaxed = poolSize <= policy.smallPool && now - t.joinedAt >= policy.relaxRecentAfterMs;
    if (!relaxed) return false;
  }
  return true;
}

/**
 * Whether two waiting people may be put together now. `poolSize` is how many wait in their mode
 * and language (the cold-start relaxation depends on it).
 */
export function compatible(a: Ticket, b: Ticket, now: number, policy: MatchPolicy, poolSize: number): boolean {
  if (a.userId === b.userId) return false;
  if (a.mode !== b.mode || a.language !== b.language) return false;
  if ((a.held ?? false) !== (b.held ?? false)) return false;
  if ((a.verifiedOnly && !b.verified) || (b.verifiedOnly && !a.verified)) return false;
  if (a.blocked.has(b.userId) || b.blocked.has(a.userId)) return false;
  return accepts(a, b, now, policy, poolSize) && accepts(b, a, now, policy, poolSize);
}

/**
 * Ranks candidates for `t`: more shared interests first, then the same region, then whoever has
 * waited longest. Negative means `x` ranks before `y`.
 */
export function rank(t: Ticket, x: Ticket, y: Ticket): number {
  const byInterests = sharedInterests(t, y) - sharedInterests(t, x);
  if (byInterests !== 0) return byInterests;
  const byRegion = Number(y.region !== undefined && y.region === t.region) - Number(x.region !== undefined && x.region === t.region);
  if (byRegion !== 0) return byRegion;
  return x.joinedAt - y.joinedAt;
}

/** The best partner for `t` among `candidates`, or undefined. */
export function pickPartner(
  t: Ticket,
  candidates: Iterable<Ticket>,
  now: number,
  policy: MatchPolicy,
  poolSize: number,
): Ticket | undefined {
  let best: Ticket | undefined;
  for (const c of candidates) {
    if (!compatible(t, c, now, policy, poolSize)) continue;
    if (!best || rank(t, c, best) < 0) best = c;
  }
  return best;
}
