/**
 * Drives a waiting pool the way the lobby does, under a simulated clock: Poisson arrivals (each
 * followed by `matchFor`), skips (a matched pair re-enters, each now with the other as a recent
 * partner), departures (`remove`), and the retries the lobby's widening timers make. Every match is
 * checked against the invariants; every `matchFor` is timed on the wall clock.
 *
 * The pool is held at `size` people waiting: when a match or a departure takes it below, fresh
 * people are enqueued ("top-ups", enqueue only; their first attempt is the first widening retry).
 * A pool of 100,000 waiting people is not a state matching reaches by itself, so this is how the
 * benchmark holds the engine at that size.
 */
import type { WaitingPool } from '../../packages/server/src/matchmaking/pool.js';
import { compatible, type MatchPolicy, type Ticket } from '../../packages/server/src/matchmaking/rules.js';
import { exponential, int, rng, type Rng } from './random.js';
import { Samples } from './stats.js';
import { bucketKey, Population, type Person } from './workload.js';

/** What the driver needs from a pool. */
export type PoolPort = Pick<WaitingPool, 'enqueue' | 'remove' | 'has' | 'matchFor'>;

export interface DriveOptions {
  /** People waiting, held steady. */
  size: number;
  policy: MatchPolicy;
  /** Mean arrivals per second of virtual time. */
  arrivalsPerSecond: number;
  /** Stop after this many events (arrivals, skips, departures), or this much wall time. */
  maxEvents: number;
  budgetMs: number;
  /** Events run before measuring starts (still checked), for at most a tenth of the budget. */
  warmupEvents: number;
  /** Called when measuring starts (after prefill and warm-up), e.g. to snapshot server counters. */
  onMeasureStart?: () => Promise<void>;
  seed: number;
  /** One port per node; with several, the nodes' calls are in flight concurrently. */
  nodes: PoolPort[];
  /** Fills the pool fast (e.g. pipelined); defaults to enqueueing one by one on the first node. */
  prefill?: (tickets: Ticket[]) => Promise<void>;
  /**
   * Answers "is this person still in the pool?" after each match. For a networked pool give it its
   * own connection: those checks then run beside the nodes instead of holding them up.
   */
  checker?: PoolPort;
}

export interface DriveResult {
  size: number;
  nodes: number;
  events: number;
  arrivals: number;
  skips: number;
  departures: number;
  retries: number;
  topUps: number;
  decisions: number;
  matches: number;
  /** Wall time of the measured phase, and the part of it spent inside pool calls. */
  wallMs: number;
  poolMs: number;
  /** Wall time spent on invariant checks (excluded from wallMs). */
  checkMs: number;
  /** CPU time this process used in the measured phase (user + system, all threads). */
  cpuMs: number;
  virtualMs: number;
  matchForUs: Samples;
  /** The same, split: calls that found a partner, and calls that found none. */
  matchForHitUs: Samples;
  matchForMissUs: Samples;
  timeToMatchMs: Samples;
  violations: string[];
  violationCount: number;
  minWaiting: number;
  maxWaiting: number;
}

interface Waiting {
  ticket: Ticket;
  /** Distinguishes this wait from the person's earlier ones. */
  episode: number;
}

interface Pending {
  userId: string;
  joinedAt: number;
  episode: number;
}

/** The widening moments the lobby retries at (interests optional, region dropped, recent relaxed). */
function milestones(policy: MatchPolicy): number[] {
  return [...new Set([policy.interestsRequiredMs, policy.regionRequiredMs, policy.relaxRecentAfterMs])].filter((m) => m > 0);
}

const SKIP_SHARE = 0.2;
const DEPART_SHARE = 0.1;
const QUICK_SKIP_SHARE = 0.5;
/** Matched pairs kept around to skip later; older ones leave for good. */
const PAIRS_KEPT = 5_000;
const MAX_VIOLATIONS_KEPT = 20;

export async function drive(o: DriveOptions): Promise<DriveResult> {
  const rand: Rng = rng(o.seed);
  const people = new Population(rng(o.seed ^ 0x5eed), o.policy);
  const waits = milestones(o.policy);

  // ---- the benchmark's own view of the pool (the source of truth for the checks) ----------
  const waiting = new Map<string, Waiting>();
  const ids: string[] = [];
  /** The bucket of `ids[i]`, beside it: drawing people at random then reads no map. */
  const idBuckets: string[] = [];
  const slot = new Map<string, number>();
  const perBucket = new Map<string, number>();
  const inCall = new Set<string>();
  const pairs: Array<[string, string]> = [];
  let pairsHead = 0;
  let episodes = 0;
  const retryQueues: Pending[][] = waits.map(() => []);
  const retryHeads = waits.map(() => 0);

  const r: DriveResult = {
    size: o.size,
    nodes: o.nodes.length,
    events: 0,
    arrivals: 0,
    skips: 0,
    departures: 0,
    retries: 0,
    topUps: 0,
    decisions: 0,
    matches: 0,
    wallMs: 0,
    poolMs: 0,
    checkMs: 0,
    cpuMs: 0,
    virtualMs: 0,
    matchForUs: new Samples(),
    matchForHitUs: new Samples(),
    matchForMissUs: new Samples(),
    timeToMatchMs: new Samples(),
    violations: [],
    violationCount: 0,
    minWaiting: Number.POSITIVE_INFINITY,
    maxWaiting: 0,
  };
  let measuring = false;
  let now = 0;

  const violation = (what: string) => {
    r.violationCount += 1;
    if (r.violations.length < MAX_VIOLATIONS_KEPT) r.violations.push(what);
  };

  const addWaiting = (t: Ticket): Waiting => {
    const w = { ticket: t, episode: ++episodes };
    waiting.set(t.userId, w);
    slot.set(t.userId, ids.length);
    ids.push(t.userId);
    const key = bucketKey(t.mode, t.language);
    idBuckets.push(key);
    perBucket.set(key, (perBucket.get(key) ?? 0) + 1);
    for (let i = 0; i < waits.length; i++) {
      if (t.joinedAt + waits[i]! > now) retryQueues[i]!.push({ userId: t.userId, joinedAt: t.joinedAt, episode: w.episode });
    }
    return w;
  };
  const dropWaiting = (userId: string): void => {
    const w = waiting.get(userId);
    if (!w) return;
    waiting.delete(userId);
    const i = slot.get(userId)!;
    const last = ids.pop()!;
    const lastBucket = idBuckets.pop()!;
    if (last !== userId) {
      ids[i] = last;
      idBuckets[i] = lastBucket;
      slot.set(last, i);
    }
    slot.delete(userId);
    const key = bucketKey(w.ticket.mode, w.ticket.language);
    perBucket.set(key, perBucket.get(key)! - 1);
  };
  const randomWaiting = (): string | undefined => (ids.length === 0 ? undefined : ids[Math.floor(rand() * ids.length)]);

  /** A few people arrive having blocked someone waiting in their own mode and language. */
  const sameBucket = (p: Person): string[] => {
    const out: string[] = [];
    const key = bucketKey(p.mode, p.language);
    for (let tries = 0; tries < 20 && out.length < 3 && ids.length > 0; tries++) {
      const i = Math.floor(rand() * ids.length);
      if (ids[i] !== p.userId && idBuckets[i] === key) out.push(ids[i]!);
    }
    return out;
  };
  const newcomer = (history: boolean): Person => {
    const p = people.create();
    if (rand() < 0.03) for (const id of sameBucket(p).slice(0, int(rand, 1, 3))) p.blocked.add(id);
    if (history && rand() < 0.2) for (const id of sameBucket(p).slice(0, int(rand, 1, 3))) people.met(p, id, now - rand() * 600_000);
    return p;
  };

  // ---- timed calls ------------------------------------------------------------------------
  const timed = async <T>(fn: () => Promise<T>): Promise<[T, number]> => {
    const t0 = process.hrtime.bigint();
    const v = await fn();
    return [v, Number(process.hrtime.bigint() - t0) / 1000];
  };

  const checker = o.checker ?? o.nodes[0]!;
  const outstanding: Array<Promise<void>> = [];
  const checkGone = async (names: string, userId: string): Promise<void> => {
    if (await checker.has(userId)) violation(`${names}: ${userId} is still in the pool after the match`);
  };
  /** The pair is in a call; it may skip later. Older pairs beyond PAIRS_KEPT leave for good. */
  const keepPair = (x: string, y: string): void => {
    pairs.push([x, y]);
    if (pairs.length - pairsHead > PAIRS_KEPT) {
      const [a, b] = pairs[pairsHead++]!;
      for (const id of [a, b]) {
        inCall.delete(id);
        people.forget(id);
      }
    }
  };

  const checkMatch = async (caller: string, pair: [Ticket, Ticket], at: number, poolSize: number): Promise<void> => {
    const t0 = performance.now();
    const [x, y] = pair;
    const wx = waiting.get(x.userId);
    const wy = waiting.get(y.userId);
    const names = `${x.userId}+${y.userId} (for ${caller})`;
    if (x.userId !== caller && y.userId !== caller) violation(`${names}: the caller is not in the pair`);
    if (x.userId === y.userId) violation(`${names}: paired with themself`);
    for (const [t, w] of [
      [x, wx],
      [y, wy],
    ] as const) {
      if (!w) violation(`${names}: ${t.userId} was not waiting (${inCall.has(t.userId) ? 'already in a call' : 'gone'})`);
      else if (w.ticket.joinedAt !== t.joinedAt)
        violation(`${names}: ${t.userId} came back with joinedAt ${t.joinedAt}, not ${w.ticket.joinedAt}`);
      if (inCall.has(t.userId)) violation(`${names}: ${t.userId} is in two pairs`);
    }
    if (wx && wy) {
      const a = wx.ticket;
      const b = wy.ticket;
      if (a.blocked.has(b.userId) || b.blocked.has(a.userId)) violation(`${names}: a blocked pair`);
      // With several nodes the pool size the engine saw may differ from ours; it only matters
      // for the small-pool relaxation, so accept the pair if it holds at any size that small.
      if (!compatible(a, b, at, o.policy, poolSize) && !(o.nodes.length > 1 && compatible(a, b, at, o.policy, 1))) {
        violation(`${names}: not compatible at ${at} (pool ${poolSize})`);
      }
    }
    // Nobody skips before the pool has been asked whether they left it.
    outstanding.push(Promise.all(pair.map((t) => checkGone(names, t.userId))).then(() => keepPair(x.userId, y.userId)));
    if (outstanding.length > 10_000) await Promise.all(outstanding.splice(0));
    for (const [t, w] of [
      [x, wx],
      [y, wy],
    ] as const) {
      if (w && measuring) r.timeToMatchMs.add(at - w.ticket.joinedAt);
      dropWaiting(t.userId);
      inCall.add(t.userId);
    }
    r.checkMs += performance.now() - t0;
  };

  const matchFor = async (node: PoolPort, userId: string, episode: number): Promise<void> => {
    const w = waiting.get(userId);
    if (!w || w.episode !== episode) return;
    const at = now;
    const poolSize = perBucket.get(bucketKey(w.ticket.mode, w.ticket.language)) ?? 0;
    const [result, us] = await timed(() => node.matchFor(userId, at));
    // 'retry' (every claim lost to another node) is a miss: the widening retries come back to it.
    const pair = result === 'retry' ? undefined : result;
    if (measuring) {
      r.decisions += 1;
      r.poolMs += us / 1000;
      r.matchForUs.add(us);
      (pair ? r.matchForHitUs : r.matchForMissUs).add(us);
    }
    if (pair) {
      if (measuring) r.matches += 1;
      await checkMatch(userId, pair, at, poolSize);
    }
  };

  const enqueue = async (node: PoolPort, t: Ticket): Promise<Waiting> => {
    const w = addWaiting(t);
    const [, us] = await timed(() => node.enqueue(t));
    if (measuring) r.poolMs += us / 1000;
    return w;
  };

  // ---- the work: due retries first, then the next event -------------------------------------
  const dueRetry = (): Pending | undefined => {
    for (let i = 0; i < waits.length; i++) {
      const q = retryQueues[i]!;
      while (retryHeads[i]! < q.length) {
        const p = q[retryHeads[i]!]!;
        if (p.joinedAt + waits[i]! > now) break;
        retryHeads[i]! += 1;
        if (waiting.get(p.userId)?.episode === p.episode) return p;
      }
      if (retryHeads[i]! > 65_536) {
        q.splice(0, retryHeads[i]!);
        retryHeads[i] = 0;
      }
    }
    return undefined;
  };

  const topUp = async (node: PoolPort): Promise<void> => {
    while (waiting.size < o.size) {
      if (measuring) r.topUps += 1;
      await enqueue(node, people.ticket(newcomer(false), now));
    }
  };

  const step = async (node: PoolPort): Promise<void> => {
    const retry = dueRetry();
    if (retry) {
      if (measuring) r.retries += 1;
      await matchFor(node, retry.userId, retry.episode);
      return;
    }
    now += exponential(rand, 1000 / o.arrivalsPerSecond);
    if (measuring) r.events += 1;
    const kind = rand();
    if (kind < SKIP_SHARE && pairs.length - pairsHead > 0) {
      // A pair skips: both are put back (the skipper first) and both look again. Half the skips
      // come at once (the newest pair: a quick Next), half from the oldest pair still talking.
      if (measuring) r.skips += 1;
      const [a, b] = rand() < QUICK_SKIP_SHARE ? pairs.pop()! : pairs[pairsHead++]!;
      const back: Waiting[] = [];
      for (const [id, partner] of [
        [a, b],
        [b, a],
      ] as const) {
        inCall.delete(id);
        const p = people.get(id);
        people.met(p, partner, now);
        back.push(await enqueue(node, people.ticket(p, now)));
      }
      for (const w of back) await matchFor(node, w.ticket.userId, w.episode);
    } else if (kind < SKIP_SHARE + DEPART_SHARE && ids.length > 0) {
      if (measuring) r.departures += 1;
      const id = randomWaiting()!;
      const [removed, us] = await timed(() => node.remove(id));
      if (measuring) r.poolMs += us / 1000;
      // False means a node matched them meanwhile; that match's check takes them out of our view.
      if (removed) {
        if (!waiting.has(id)) violation(`${id}: removed, but had already been matched`);
        dropWaiting(id);
        people.forget(id);
      }
    } else {
      if (measuring) r.arrivals += 1;
      const w = await enqueue(node, people.ticket(newcomer(true), now));
      await matchFor(node, w.ticket.userId, w.episode);
    }
    await topUp(node);
  };

  // ---- prefill: waits spread over the last 40 s, so people are at every widening stage ------
  const prefillSpanMs = 40_000;
  now = prefillSpanMs;
  const prefill: Ticket[] = [];
  for (let i = 0; i < o.size; i++) {
    const joinedAt = Math.round((i / Math.max(1, o.size)) * prefillSpanMs);
    const t = people.ticket(newcomer(true), joinedAt);
    addWaiting(t);
    prefill.push(t);
  }
  if (o.prefill) await o.prefill(prefill);
  else for (const t of prefill) await o.nodes[0]!.enqueue(t);

  // ---- run: every node works through the shared event stream concurrently --------------------
  const started = performance.now();
  let measuredFrom = started;
  let cpuFrom = process.cpuUsage();
  let stepsDone = 0;
  const deadline = started + o.budgetMs;
  const virtualFrom = { at: now };
  const worker = async (node: PoolPort): Promise<void> => {
    while (r.events < o.maxEvents && performance.now() < deadline) {
      if (!measuring && (stepsDone >= o.warmupEvents || performance.now() - started > o.budgetMs / 10)) {
        measuring = true;
        await o.onMeasureStart?.();
        measuredFrom = performance.now();
        cpuFrom = process.cpuUsage();
        virtualFrom.at = now;
        r.checkMs = 0;
      }
      stepsDone += 1;
      await step(node);
      r.minWaiting = Math.min(r.minWaiting, waiting.size);
      r.maxWaiting = Math.max(r.maxWaiting, waiting.size);
    }
  };
  await Promise.all(o.nodes.map(worker));
  r.wallMs = performance.now() - measuredFrom - r.checkMs;
  const cpu = process.cpuUsage(cpuFrom);
  r.cpuMs = (cpu.user + cpu.system) / 1000;
  await Promise.all(outstanding);
  r.virtualMs = now - virtualFrom.at;
  return r;
}
