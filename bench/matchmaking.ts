/**
 * Matchmaking engine benchmark (issue #4): the in-process pool and the Redis pool, alone, at 10,
 * 1,000 and 100,000 people waiting, under a simulated clock. Not a test: it measures, prints a
 * table, and exits 1 only if an invariant was violated.
 *
 *   npm run bench:matchmaking -- [--store=memory,redis] [--sizes=10,1000,100000] [--nodes=1,4]
 *                                 [--runs=3] [--budget-s=15] [--max-events=300000] [--json=FILE]
 *                                 [--scan-limit=N]   (in-process pool's candidates per scan; a diagnostic)
 *                                 [--engine-cpu-prof=FILE]  (a CPU profile of the in-process replay, the
 *                                                            engine alone; SIZE and RUN in FILE are replaced)
 *
 * The in-process pool's run is recorded and replayed against a fresh pool with nothing else running:
 * the replay's CPU is the engine's, and the rest of the run's CPU is the harness's (the driver, the
 * workload, the invariant checks, the timing). Both figures are printed.
 *
 * Redis: REDIS_URL (default redis://127.0.0.1:6379); keys live under a fresh prefix that is
 * deleted at the end.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { Redis } from 'ioredis';
import { MemoryPool } from '../packages/server/src/matchmaking/memoryPool.js';
import type { MatchResult } from '../packages/server/src/matchmaking/pool.js';
import { RedisPool } from '../packages/server/src/matchmaking/redisPool.js';
import { DEFAULT_POLICY, type MatchPolicy, type Ticket } from '../packages/server/src/matchmaking/rules.js';
import { drive, type DriveResult, type PoolPort } from './lib/driver.js';
import { fmt, median, out, table } from './lib/stats.js';
import { arg, argList, machine } from './lib/machine.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const POLICY: MatchPolicy = DEFAULT_POLICY;

interface Row {
  store: string;
  size: number;
  nodes: number;
  run: number;
  decisionsPerS: number;
  decisionsPerPoolS: number;
  /** Decisions per second of this process's CPU time: less sensitive to a shared, busy machine. */
  decisionsPerCpuS: number;
  matchesPerS: number;
  matchForP50Us: number;
  matchForP99Us: number;
  matchForMaxUs: number;
  /** Mean of matchFor's wall time: 1e6 / mean is what the engine alone would decide per second. */
  matchForMeanUs: number;
  hitP50Us: number;
  hitP99Us: number;
  missP50Us: number;
  missP99Us: number;
  missShare: number;
  ttmP50Ms: number;
  ttmP95Ms: number;
  ttmP99Ms: number;
  decisions: number;
  matches: number;
  events: number;
  retries: number;
  topUps: number;
  claims: number;
  lostClaims: number;
  violations: number;
  violationSamples: string[];
  wallS: number;
  /** Redis only: the server's CPU time over the run's wall time (1 = one core saturated; includes prefill-free run only). */
  redisCpuShare?: number;
  /** Redis only: commands per decision, by command. */
  redisCallsPerDecision?: string;
  /** Redis only: commands the nodes sent (round trips, pipelined ones counted singly) per matched pair. */
  sentPerPair?: number;
  /** Redis only: commands Redis executed per matched pair, those run inside Lua scripts included (the checker's excluded). */
  executedPerPair?: number;
  /** This process's CPU time over wall time. */
  clientCpuShare: number;
  /**
   * In-process only: the measured calls replayed against a fresh pool with nothing else running
   * (see `Recording`). Decisions per CPU second of the engine alone (matchFor and the enqueues and
   * removes around it), the replay's CPU per decision, and the share of the driven run's CPU that
   * was the harness (driver, workload, checks, timing) rather than the engine.
   */
  engineDecisionsPerCpuS?: number;
  engineCpuUsPerDecision?: number;
  /** The replay's copies of the tickets (the lobby's work, not the engine's), per decision. */
  copiesCpuUsPerDecision?: number;
  harnessCpuShare?: number;
  minWaiting: number;
  maxWaiting: number;
}

function row(store: string, run: number, r: DriveResult, claims = 0, lostClaims = 0): Row {
  const [p50, p99, max] = r.matchForUs.percentiles(50, 99, 100);
  const [t50, t95, t99] = r.timeToMatchMs.percentiles(50, 95, 99);
  const [h50, h99] = r.matchForHitUs.percentiles(50, 99);
  const [m50, m99] = r.matchForMissUs.percentiles(50, 99);
  return {
    store,
    size: r.size,
    nodes: r.nodes,
    run,
    decisionsPerS: r.decisions / (r.wallMs / 1000),
    decisionsPerPoolS: r.decisions / (r.poolMs / 1000),
    decisionsPerCpuS: r.decisions / (r.cpuMs / 1000),
    matchesPerS: r.matches / (r.wallMs / 1000),
    matchForP50Us: p50!,
    matchForP99Us: p99!,
    matchForMaxUs: max!,
    matchForMeanUs: r.matchForUs.mean(),
    hitP50Us: h50!,
    hitP99Us: h99!,
    missP50Us: m50!,
    missP99Us: m99!,
    missShare: r.matchForMissUs.count / Math.max(1, r.decisions),
    ttmP50Ms: t50!,
    ttmP95Ms: t95!,
    ttmP99Ms: t99!,
    decisions: r.decisions,
    matches: r.matches,
    events: r.events,
    retries: r.retries,
    topUps: r.topUps,
    claims,
    lostClaims,
    violations: r.violationCount,
    violationSamples: r.violations,
    wallS: r.wallMs / 1000,
    clientCpuShare: r.cpuMs / (r.wallMs + r.checkMs),
    minWaiting: r.minWaiting,
    maxWaiting: r.maxWaiting,
  };
}

/** Virtual arrivals per second: with ~10 s average waits (Little's law) a pool of N needs N/10 per second. */
const arrivalsFor = (size: number) => Math.max(1, size / 10);

const ENQUEUE = 0;
const REMOVE = 1;
const MATCH = 2;

/**
 * The in-process pool, recording every call that changes it or decides, in order, with what it
 * answered: the run can then be replayed against a fresh pool with nothing else in the process
 * (`replay`), which measures the engine apart from the harness that chose the calls. `has` is the
 * harness's own check after each match and is not recorded (it changes nothing).
 */
class Recording implements PoolPort {
  /** Let go before the replay, so the run's pool does not weigh on the replay's garbage collection. */
  #pool: MemoryPool | undefined;
  readonly kinds: number[] = [];
  readonly tickets: Array<Ticket | undefined> = [];
  readonly ids: string[] = [];
  readonly times: number[] = [];
  /** matchFor: the partner's id ('' for none); remove: '1' or ''. */
  readonly answers: string[] = [];
  /** The first call of the measured phase. */
  measuredFrom = 0;

  constructor(pool: MemoryPool) {
    this.#pool = pool;
  }

  get pool(): MemoryPool {
    if (!this.#pool) throw new Error('the recording has stopped');
    return this.#pool;
  }

  stop(): void {
    this.#pool = undefined;
  }

  #record(kind: number, ticket: Ticket | undefined, id: string, now: number): number {
    this.kinds.push(kind);
    this.tickets.push(ticket);
    this.ids.push(id);
    this.times.push(now);
    return this.answers.push('') - 1;
  }

  enqueue(t: Ticket): Promise<void> {
    this.#record(ENQUEUE, t, t.userId, 0);
    return this.pool.enqueue(t);
  }

  remove(userId: string): Promise<boolean> {
    const i = this.#record(REMOVE, undefined, userId, 0);
    return this.pool.remove(userId).then((removed) => {
      this.answers[i] = removed ? '1' : '';
      return removed;
    });
  }

  has(userId: string): Promise<boolean> {
    return this.pool.has(userId);
  }

  matchFor(userId: string, now: number): Promise<MatchResult> {
    const i = this.#record(MATCH, undefined, userId, now);
    return this.pool.matchFor(userId, now).then((pair) => {
      this.answers[i] = partnerOf(userId, pair);
      return pair;
    });
  }
}

const partnerOf = (userId: string, pair: MatchResult): string =>
  pair === undefined || pair === 'retry' ? '' : pair[0].userId === userId ? pair[1].userId : pair[0].userId;

/**
 * A copy of the ticket, made as the lobby makes one just before it enqueues (bench/lib/workload.ts
 * `ticket`): the engine then reads a ticket fresh in the cache, as in the server, not one
 * recorded minutes ago.
 */
const fresh = (t: Ticket): Ticket => ({
  ...t,
  interests: [...t.interests],
  blocked: new Set(t.blocked),
  recent: t.recent.map((r) => ({ ...r })),
});

const cpuMsSince = (from: NodeJS.CpuUsage): number => {
  const cpu = process.cpuUsage(from);
  return (cpu.user + cpu.system) / 1000;
};

/**
 * Replays a recording against a fresh pool: the calls before the measured phase (the prefill, the
 * warm-up) untimed, then the measured ones back to back, each awaited as the lobby does, each
 * enqueue with a fresh copy of its ticket. Then the copies alone are made again and timed: their
 * cost is the harness's, taken off the replay's. Every answer must be the recorded one (the engine
 * is deterministic), so the replay did the run's work exactly.
 */
async function replay(
  rec: Recording,
  makePool: () => MemoryPool,
  profile: string | undefined,
): Promise<{ cpuMs: number; copiesCpuMs: number; decisions: number }> {
  rec.stop();
  const pool = makePool();
  const { kinds, tickets, ids, times, answers } = rec;
  const call = (i: number): Promise<unknown> =>
    kinds[i] === ENQUEUE
      ? pool.enqueue(fresh(tickets[i]!))
      : kinds[i] === REMOVE
        ? pool.remove(ids[i]!)
        : pool.matchFor(ids[i]!, times[i]!);
  for (let i = 0; i < rec.measuredFrom; i++) await call(i);
  const got: unknown[] = new Array(kinds.length - rec.measuredFrom);
  const session = profile === undefined ? undefined : new Session();
  if (session) {
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
  }
  const cpu0 = process.cpuUsage();
  for (let i = rec.measuredFrom; i < kinds.length; i++) got[i - rec.measuredFrom] = await call(i);
  const cpuMs = cpuMsSince(cpu0);
  if (session) {
    const { profile: taken } = await session.post('Profiler.stop');
    writeFileSync(profile!, JSON.stringify(taken));
    session.disconnect();
  }
  // The copies alone, short-lived (a ring keeps the last few), while the pool is still alive.
  const ring: Ticket[] = new Array(1024);
  const cpu1 = process.cpuUsage();
  for (let i = rec.measuredFrom, n = 0; i < kinds.length; i++) if (kinds[i] === ENQUEUE) ring[n++ & 1023] = fresh(tickets[i]!);
  const copiesCpuMs = cpuMsSince(cpu1);
  let decisions = 0;
  for (let i = rec.measuredFrom; i < kinds.length; i++) {
    const v = got[i - rec.measuredFrom];
    const answer = kinds[i] === MATCH ? partnerOf(ids[i]!, v as MatchResult) : kinds[i] === REMOVE ? (v ? '1' : '') : '';
    if (answer !== answers[i]) throw new Error(`replay diverged at call ${i}: ${answer} instead of ${answers[i]}`);
    if (kinds[i] === MATCH) decisions += 1;
  }
  return { cpuMs, copiesCpuMs, decisions };
}

async function runMemory(size: number, run: number, o: Options): Promise<Row> {
  const makePool = () => (o.scanLimit === undefined ? new MemoryPool(POLICY) : new MemoryPool(POLICY, o.scanLimit));
  const rec = new Recording(makePool());
  const r = await drive({
    size,
    policy: POLICY,
    arrivalsPerSecond: arrivalsFor(size),
    maxEvents: o.maxEvents,
    budgetMs: o.budgetMs,
    warmupEvents: Math.min(5_000, o.maxEvents / 10),
    seed: o.seed,
    nodes: [rec],
    onMeasureStart: async () => {
      rec.measuredFrom = rec.kinds.length;
    },
  });
  const engine = await replay(rec, makePool, o.engineProfile?.replace('SIZE', String(size)).replace('RUN', String(run)));
  // A decision the driver counted is a matchFor it made while measuring: the replay's own count.
  if (engine.decisions !== r.decisions) throw new Error(`replay made ${engine.decisions} decisions, the run ${r.decisions}`);
  const engineCpuMs = engine.cpuMs - engine.copiesCpuMs;
  return {
    ...row('in-process', run, r),
    engineDecisionsPerCpuS: engine.decisions / (engineCpuMs / 1000),
    engineCpuUsPerDecision: (1000 * engineCpuMs) / engine.decisions,
    copiesCpuUsPerDecision: (1000 * engine.copiesCpuMs) / engine.decisions,
    harnessCpuShare: 1 - engineCpuMs / r.cpuMs,
  };
}

/** Calls per command so far (INFO commandstats; commands run inside Lua scripts count too). */
async function redisCalls(redis: Redis): Promise<Map<string, number>> {
  const info = await redis.info('commandstats');
  const calls = new Map<string, number>();
  for (const m of info.matchAll(/cmdstat_([a-z|]+):calls=(\d+)/g)) calls.set(m[1]!, Number(m[2]));
  return calls;
}

/** CPU time the Redis server has used so far (INFO cpu), in ms. */
async function redisCpuMs(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const field = (name: string) => Number(new RegExp(`${name}:([0-9.]+)`).exec(info)?.[1] ?? Number.NaN);
  return (field('used_cpu_user') + field('used_cpu_sys')) * 1000;
}

async function deletePrefix(redis: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let n = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 5000);
    cursor = next;
    if (keys.length > 0) n += await redis.unlink(...keys);
  } while (cursor !== '0');
  return n;
}

async function runRedis(size: number, nodes: number, run: number, o: Options): Promise<Row> {
  const prefix = `duet-bench:{${process.pid}-${randomBytes(4).toString('hex')}}:`;
  const conns = Array.from({ length: nodes + 1 }, () => new Redis(REDIS_URL, { maxRetriesPerRequest: 2 }));
  let claims = 0;
  let lost = 0;
  try {
    const pools = conns.map((redis) => new RedisPool({ redis, prefix, policy: POLICY }));
    // Count claims as the pool makes them: a lost claim is one another node won first.
    for (const c of conns.slice(0, nodes)) {
      const cmds = c as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
      // A pool that decides and claims in one script (no separate claim) loses none.
      if (!cmds.duetClaim) continue;
      const claim = cmds.duetClaim.bind(c);
      cmds.duetClaim = async (...a: unknown[]) => {
        const won = await claim(...a);
        claims += 1;
        if (won !== 1) lost += 1;
        return won;
      };
    }
    const prefill = async (tickets: Ticket[]) => {
      // Pipelined: ioredis writes every command of a batch before the first reply arrives.
      for (let i = 0; i < tickets.length; i += 2_000) await Promise.all(tickets.slice(i, i + 2_000).map((t) => pools[0]!.enqueue(t)));
    };
    // Commands each connection sends (pipelined ones too: ioredis's pipeline calls sendCommand per command).
    const sent = conns.map(() => 0);
    conns.forEach((c, i) => {
      const send = c.sendCommand.bind(c);
      c.sendCommand = ((...a: Parameters<Redis['sendCommand']>) => {
        sent[i]! += 1;
        return send(...a);
      }) as Redis['sendCommand'];
    });
    let cpuBefore = 0;
    let callsBefore = new Map<string, number>();
    let sentBefore: number[] = [];
    const onMeasureStart = async () => {
      [cpuBefore, callsBefore] = await Promise.all([redisCpuMs(conns[nodes]!), redisCalls(conns[nodes]!)]);
      sentBefore = [...sent];
    };
    const r = await drive({
      size,
      policy: POLICY,
      arrivalsPerSecond: arrivalsFor(size),
      maxEvents: o.maxEvents,
      budgetMs: o.budgetMs,
      warmupEvents: Math.min(1_000, o.maxEvents / 10),
      seed: o.seed,
      nodes: pools.slice(0, nodes),
      checker: pools[nodes],
      prefill,
      onMeasureStart,
    });
    const sentByNodes = sent.slice(0, nodes).reduce((sum, n, i) => sum + n - sentBefore[i]!, 0);
    const sentByChecker = sent[nodes]! - sentBefore[nodes]!;
    const redisCpu = (await redisCpuMs(conns[0]!)) - cpuBefore;
    const callsAfter = await redisCalls(conns[0]!);
    let executed = 0;
    for (const [cmd, n] of callsAfter) if (cmd !== 'info') executed += n - (callsBefore.get(cmd) ?? 0);
    // The checker's EXISTS and the top-ups' enqueues are in these counts too.
    const perDecision = [...callsAfter]
      .map(([cmd, n]) => [cmd, (n - (callsBefore.get(cmd) ?? 0)) / Math.max(1, r.decisions)] as const)
      .filter(([cmd, n]) => n >= 0.05 && cmd !== 'info')
      .sort((a, b) => b[1] - a[1])
      .map(([cmd, n]) => `${cmd} ${n.toFixed(1)}`)
      .join(', ');
    return {
      ...row(nodes === 1 ? 'redis' : `redis ×${nodes}`, run, r, claims, lost),
      redisCpuShare: redisCpu / (r.wallMs + r.checkMs),
      redisCallsPerDecision: perDecision,
      sentPerPair: sentByNodes / Math.max(1, r.matches),
      // The checker's commands (one per matched person, none inside scripts) are not the pool's.
      executedPerPair: (executed - sentByChecker) / Math.max(1, r.matches),
    };
  } finally {
    await deletePrefix(conns[0]!, prefix);
    for (const c of conns) c.disconnect();
  }
}

interface Options {
  stores: string[];
  sizes: number[];
  nodes: number[];
  runs: number;
  budgetMs: number;
  maxEvents: number;
  seed: number;
  json: string | undefined;
  /** In-process pool only: candidates per scan (the pool's default is 256). A diagnostic. */
  scanLimit: number | undefined;
  /** In-process pool only: a CPU profile of the replay (the engine alone) is written here. */
  engineProfile: string | undefined;
}

function summarize(rows: Row[]): string {
  const groups = new Map<string, Row[]>();
  for (const r of rows) {
    const key = `${r.store}|${r.size}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const body = [...groups.values()].map((g) => {
    const m = (f: (r: Row) => number) => median(g.map(f));
    return [
      g[0]!.store,
      fmt(g[0]!.size),
      fmt(m((r) => r.decisionsPerS)),
      g[0]!.nodes > 1 ? '–' : fmt(m((r) => r.decisionsPerPoolS)),
      fmt(m((r) => r.decisionsPerCpuS)),
      g[0]!.engineDecisionsPerCpuS === undefined
        ? '–'
        : `${fmt(m((r) => r.engineDecisionsPerCpuS!))} (${fmt(
            m((r) => r.engineCpuUsPerDecision!),
            1,
          )} µs; harness ${fmt(100 * m((r) => r.harnessCpuShare!))} %)`,
      fmt(m((r) => r.matchesPerS)),
      `${fmt(
        m((r) => r.matchForP50Us),
        1,
      )} / ${fmt(
        m((r) => r.matchForP99Us),
        1,
      )}`,
      `${fmt(
        m((r) => r.ttmP50Ms / 1000),
        1,
      )} / ${fmt(
        m((r) => r.ttmP95Ms / 1000),
        1,
      )} / ${fmt(
        m((r) => r.ttmP99Ms / 1000),
        1,
      )}`,
      g[0]!.store.startsWith('redis') ? `${fmt(m((r) => r.lostClaims))} / ${fmt(m((r) => r.claims))}` : '–',
      g[0]!.store.startsWith('redis')
        ? `${fmt(
            m((r) => r.sentPerPair ?? 0),
            1,
          )} / ${fmt(
            m((r) => r.executedPerPair ?? 0),
            1,
          )}`
        : '–',
      fmt(Math.max(...g.map((r) => r.violations))),
      `${g.length} × ${fmt(
        m((r) => r.wallS),
        1,
      )} s, ${fmt(m((r) => r.decisions))} decisions`,
    ];
  });
  return table(
    [
      'store',
      'waiting',
      'decisions/s (wall)',
      'decisions/s (in pool)',
      'decisions per CPU s',
      'engine alone: decisions per CPU s (CPU per decision; harness share of the run)',
      'matches/s',
      'matchFor p50 / p99 µs',
      'time to match p50 / p95 / p99 s (virtual)',
      'lost claims / claims',
      'Redis commands per pair: sent / executed',
      'violations',
      'runs',
    ],
    body,
  );
}

async function main(): Promise<void> {
  const o: Options = {
    stores: argList('store', ['memory', 'redis']),
    sizes: argList('sizes', ['10', '1000', '100000']).map(Number),
    nodes: argList('nodes', ['1', '4']).map(Number),
    runs: Number(arg('runs', '1')),
    budgetMs: Number(arg('budget-s', '15')) * 1000,
    maxEvents: Number(arg('max-events', '300000')),
    seed: Number(arg('seed', '4')),
    json: arg('json', undefined),
    scanLimit: arg('scan-limit', undefined) === undefined ? undefined : Number(arg('scan-limit', '512')),
    engineProfile: arg('engine-cpu-prof', undefined),
  };
  out(`# matchmaking benchmark — ${machine()}`);
  const rows: Row[] = [];
  for (let run = 1; run <= o.runs; run++) {
    for (const size of o.sizes) {
      const batch: Row[] = [];
      if (o.stores.includes('memory')) batch.push(await runMemory(size, run, o));
      if (o.stores.includes('redis')) for (const n of o.nodes) batch.push(await runRedis(size, n, run, o));
      rows.push(...batch);
      for (const r of batch) {
        out(
          `run ${run} ${r.store} waiting=${r.size}: ${fmt(r.decisions)} decisions in ${fmt(r.wallS, 1)} s = ${fmt(r.decisionsPerS)}/s wall, ${fmt(r.decisionsPerPoolS)}/s in pool, ${fmt(r.decisionsPerCpuS)}/s per CPU s; ` +
            `${fmt(r.matchesPerS)} matches/s; matchFor p50 ${fmt(r.matchForP50Us, 1)} µs p99 ${fmt(r.matchForP99Us, 1)} µs max ${fmt(r.matchForMaxUs)} µs mean ${fmt(r.matchForMeanUs, 1)} µs ` +
            `(found p50/p99 ${fmt(r.hitP50Us, 1)}/${fmt(r.hitP99Us, 1)} µs; none found ${fmt(100 * r.missShare)} %, p50/p99 ${fmt(r.missP50Us, 1)}/${fmt(r.missP99Us, 1)} µs); ` +
            `ttm p50/p95/p99 ${fmt(r.ttmP50Ms)}/${fmt(r.ttmP95Ms)}/${fmt(r.ttmP99Ms)} ms; retries ${fmt(r.retries)} top-ups ${fmt(r.topUps)}; ` +
            `waiting ${fmt(r.minWaiting)}–${fmt(r.maxWaiting)}; CPU bench ${fmt(100 * r.clientCpuShare)} %` +
            `${r.redisCpuShare === undefined ? '' : ` redis ${fmt(100 * r.redisCpuShare)} %`}; claims ${fmt(r.claims)} lost ${fmt(r.lostClaims)}; violations ${r.violations}`,
        );
        if (r.engineDecisionsPerCpuS !== undefined) {
          out(
            `  engine alone (the run's calls replayed): ${fmt(r.engineDecisionsPerCpuS)} decisions per CPU s, ${fmt(r.engineCpuUsPerDecision!, 2)} µs of CPU per decision ` +
              `(the replay's ticket copies, ${fmt(r.copiesCpuUsPerDecision!, 2)} µs per decision, taken off); the harness was ${fmt(100 * r.harnessCpuShare!)} % of the run's CPU`,
          );
        }
        if (r.redisCallsPerDecision) {
          out(`  redis commands per decision: ${r.redisCallsPerDecision}`);
          out(
            `  redis commands per pair: ${fmt(r.sentPerPair ?? 0, 1)} sent by the nodes, ${fmt(r.executedPerPair ?? 0, 1)} executed (scripts' included)`,
          );
        }
        for (const v of r.violationSamples) out(`  violation: ${v}`);
      }
    }
  }
  out();
  out(`Medians over ${o.runs} run(s):`);
  out();
  out(summarize(rows));
  if (o.json) writeFileSync(o.json, JSON.stringify({ machine: machine(), options: o, rows }, null, 2));
  if (rows.some((r) => r.violations > 0)) process.exitCode = 1;
}

await main();
