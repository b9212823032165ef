/**
 * A crowd arriving (issue 12): people arrive at --rate a second, each doing what `@duet/client`
 * does for a new visitor — POST /api/session, accept the rules, open /ws, hello, join, hold a call
 * for --hold-ms after `matched` (no media), `next`, for --rounds rounds, then leave. Measured from
 * outside, against a minimal correct FIFO server (bench/lib/fifoServer.ts) as the floor and then
 * against Duet, in the same sitting on the same machine: servers pinned to one core, the load (several
 * processes, bench/lib/crowdWorker.ts, each well under the 20,000 open files a process may hold)
 * to the other.
 *
 *   npm run bench:crowd -- [--people=10000] [--rate=1000] [--rounds=3] [--hold-ms=1000]
 *                          [--nodes=1|2|4] [--redis] (several nodes need --redis; they get PostgreSQL)
 *                          [--postgres] [--floor-only | --duet-only] [--workers=4] [--budget-s=120]
 *                          [--server-cpu-prof=DIR] [--json=FILE] [--env=KEY=VALUE,...] (extra server env)
 *                          [--load-cpu-prof=DIR] (profiles of the load processes)
 *                          [--server-main=PATH,...] (other builds' main.js, e.g. an earlier commit's; each runs in turn)
 *                          [--warmup=PEOPLE] (a crowd first, not reported: the measured one meets warm nodes)
 *                          [--load-nodes=K] (people connect to the first K nodes only; default all)
 *                          [--log-level=warn] (the nodes' LOG_LEVEL; their log goes to a file in their data folder,
 *                          as a log shipper would read it: `info` is the product's default)
 *
 * Reported per run: people, never got in, never matched, double matches (must be 0), join→match
 * p50/p99 (join, next, or being requeued → matched), time until all were in after the last arrival,
 * pairs/s, server CPU % and RSS idle→peak, Redis commands per pair (--redis), and ratios to the floor.
 * Exits 1 when a double match was seen. Bounded: every run has a deadline, every process a budget.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';
import { arg, flag, machine } from './lib/machine.js';
import { Samples, fmt, out, table } from './lib/stats.js';
import type { WorkerPlan, WorkerReport } from './lib/crowdWorker.js';
import { freePort } from '../packages/server/src/testing/net.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Builds of the server to run, comma-separated (e.g. an export of an earlier commit and this one: before and after in one sitting). */
const MAINS = (arg('server-main', undefined) ?? path.join(ROOT, 'packages/server/dist/main.js')).split(',').map((m) => path.resolve(m));
const HERE = fileURLToPath(new URL('.', import.meta.url));

const PEOPLE = Number(arg('people', '10000'));
const RATE = Number(arg('rate', '1000'));
const ROUNDS = Number(arg('rounds', '3'));
const HOLD_MS = Number(arg('hold-ms', '1000'));
const NODES = Number(arg('nodes', '1'));
const REDIS = flag('redis') || NODES > 1;
const POSTGRES = flag('postgres') || NODES > 1;
/** People connect to the first this many nodes only (the others are members that take no one): what more nodes cost by being there. */
const LOAD_NODES = Number(arg('load-nodes', String(NODES)));
const WORKERS = Number(arg('workers', String(Math.max(2, Math.ceil(PEOPLE / 2500)))));
const BUDGET_MS = Number(arg('budget-s', '120')) * 1000;
const WAIT_MS = 15_000;
const GIVE_UP_MS = 30_000;
/** People in a crowd run first against each Duet build and not reported: every node's code is warm when the measured crowd comes. */
const WARMUP = Number(arg('warmup', '0'));
const PROFILE_DIR = arg('server-cpu-prof', undefined);
const LOAD_PROFILE_DIR = arg('load-cpu-prof', undefined);
const JSON_FILE = arg('json', undefined);
const LOG_LEVEL = arg('log-level', 'warn')!;
const EXTRA_ENV = Object.fromEntries(
  (arg('env', '') || '')
    .split(',')
    .filter(Boolean)
    .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
/** Server on core 0, load on core 1, when there are two cores and taskset. */
const PIN = os.availableParallelism() >= 2 && existsSync('/usr/bin/taskset') && !flag('no-pin');
const pinned = (core: number, argv: string[]) =>
  (PIN ? ['/usr/bin/taskset', ['-c', String(core), ...argv]] : [argv[0]!, argv.slice(1)]) as [string, string[]];
const now = () => performance.timeOrigin + performance.now();
/** Every server started, so that a run over its budget still stops them. */
const started = new Set<ChildProcess>();

if (NODES > 1 && !flag('redis') && !flag('floor-only'))
  out('(several nodes share a Redis pool and PostgreSQL: --redis and --postgres implied)');

// ---- processes ------------------------------------------------------------------------------

async function waitFor(what: string, ms: number, probe: () => Promise<boolean>): Promise<void> {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    if (await probe().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what}: not within ${ms} ms`);
}

async function stopProcess(p: ChildProcess, graceMs = 20_000): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise<void>((r) => p.once('exit', () => r()));
  p.kill('SIGTERM');
  const timer = setTimeout(() => {
    try {
      process.kill(-p.pid!, 'SIGKILL');
    } catch {
      p.kill('SIGKILL');
    }
  }, graceMs);
  await exited;
  clearTimeout(timer);
}

/** utime and stime of a process, in seconds (clock ticks of 1/100 s on Linux). */
async function cpuSeconds(pid: number): Promise<{ user: number; system: number }> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[11]) / 100, system: Number(fields[12]) / 100 };
}

/** The CPU time of all these processes, user and system. */
async function cpuOf(pids: number[]): Promise<{ user: number; system: number }> {
  const each = await Promise.all(pids.map(cpuSeconds));
  return { user: each.reduce((a, c) => a + c.user, 0), system: each.reduce((a, c) => a + c.system, 0) };
}

async function rssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN) / 1024;
}

interface Target {
  name: string;
  bases: string[];
  pids: number[];
  stop: () => Promise<void>;
}

async function startFloor(): Promise<Target> {
  const port = await freePort();
  const [cmd, argv] = pinned(0, [process.execPath, '--import', 'tsx', path.join(HERE, 'lib/fifoServer.ts'), `--port=${port}`]);
  const p = spawn(cmd, argv, { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'], detached: true });
  started.add(p);
  const base = `http://127.0.0.1:${port}`;
  await waitFor('fifo server', 20_000, async () => (await fetch(`${base}/healthz`)).ok);
  return { name: 'FIFO floor', bases: [base], pids: [p.pid!], stop: () => stopProcess(p, 5_000) };
}

async function startDuet(MAIN: string): Promise<Target> {
  const dirs: string[] = [];
  const procs: ChildProcess[] = [];
  const prefix = `duet-bench:{crowd-${process.pid}-${randomBytes(4).toString('hex')}}:`;
  const db = POSTGRES ? await createDatabase() : undefined;
  const secret = randomBytes(36).toString('base64url');
  const bases: string[] = [];
  try {
    for (let n = 0; n < NODES; n++) {
      const dataDir = await mkdtemp(path.join(os.tmpdir(), 'duet-crowd-'));
      dirs.push(dataDir);
      const port = await freePort();
      const profile = PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(PROFILE_DIR)}`] : [];
      const [cmd, argv] = pinned(0, [process.execPath, ...profile, MAIN]);
      const logFd = openSync(path.join(dataDir, 'server.log'), 'a');
      const p = spawn(cmd, argv, {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH,
          PORT: String(port),
          HOST: '127.0.0.1',
          DATA_DIR: dataDir,
          LOG_LEVEL,
          // The highest the configuration accepts; each person also comes from its own forwarded address.
          SESSION_RATE_LIMIT: '100000',
          WS_MAX_PER_ADDRESS: '1000000',
          TRUST_PROXY: 'true',
          NODE_ENV: 'production',
          TURN_MODE: 'off',
          DUET_SECRET: secret,
          ...(REDIS ? { REDIS_URL, REDIS_PREFIX: prefix, NODE_ID: `crowd-${n}` } : {}),
          ...(db ? { DATABASE_URL: db.url } : {}),
          ...EXTRA_ENV,
        },
        stdio: ['ignore', logFd, 'inherit'],
        detached: true,
      });
      closeSync(logFd);
      procs.push(p);
      started.add(p);
      const base = `http://127.0.0.1:${port}`;
      bases.push(base);
      // Nodes start one after another: the first applies the migrations.
      await waitFor(`Duet node ${n}`, 30_000, async () => (await fetch(`${base}/healthz`)).ok);
    }
  } catch (err) {
    await Promise.all(procs.map((p) => stopProcess(p)));
    await db?.drop();
    throw err;
  }
  const name = `Duet${MAIN.startsWith(ROOT) ? '' : ` [${path.relative(os.tmpdir(), MAIN).split(path.sep)[0]}]`} ${NODES === 1 ? 'one node' : `${NODES} nodes`} (${POSTGRES ? 'PostgreSQL' : 'SQLite'}, ${REDIS ? 'Redis pool' : 'in-process pool'})`;
  return {
    name,
    bases,
    pids: procs.map((p) => p.pid!),
    stop: async () => {
      const t0 = performance.now();
      await Promise.all(procs.map((p) => stopProcess(p)));
      out(`  Duet stopped in ${fmt((performance.now() - t0) / 1000, 1)} s`);
      for (const d of dirs) await rm(d, { recursive: true, force: true });
      if (REDIS) await deleteRedisPrefix(prefix);
      await db?.drop();
    },
  };
}

/** A database of its own, dropped at the end (as packages/server/src/testing/postgres.ts does for tests). */
async function createDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `duet_crowd_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`).finally(() => admin.end());
  const url = new URL(PG_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).finally(() => c.end());
    },
  };
}

async function deleteRedisPrefix(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 2 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 5000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/**
 * Redis commands executed so far, by command, those run inside scripts included, and the CPU time
 * of its main thread (all clients: the machine's Redis is shared, so read both as upper bounds).
 */
async function redisStats(): Promise<{ commands: Map<string, number>; cpuS: number }> {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 2 });
  try {
    const [commands, cpu] = await Promise.all([redis.info('commandstats'), redis.info('cpu')]);
    const seconds = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(cpu)?.[1] ?? Number.NaN);
    return {
      commands: new Map([...commands.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)].map((m) => [m[1]!, Number(m[2])])),
      cpuS: seconds('used_cpu_user_main_thread') + seconds('used_cpu_sys_main_thread'),
    };
  } finally {
    redis.disconnect();
  }
}

/** The commands run between two readings, per pair, most first. */
function commandsPerPair(before: Map<string, number>, after: Map<string, number>, pairs: number): Record<string, number> {
  const mix = [...after].map(([name, n]) => [name, (n - (before.get(name) ?? 0)) / Math.max(1, pairs)] as const);
  return Object.fromEntries(mix.filter(([, n]) => n >= 0.05).sort((x, y) => y[1] - x[1]));
}

// ---- one run --------------------------------------------------------------------------------

interface RunResult {
  name: string;
  people: number;
  arrived: number;
  neverIn: number;
  neverMatched: number;
  waitsGivenUp: number;
  doubleMatches: number;
  p50: number;
  p99: number;
  admitP50: number;
  admitP99: number;
  /** Seconds from the last arrival until the last person was in. */
  allInS: number;
  pairsPerS: number;
  pairs: number;
  serverCpu: number;
  /** Server CPU time per person who got in, ms: what a newcomer costs, whatever else the machine was doing. */
  cpuMsPerPerson: number;
  /** Of it, in the kernel (sockets, and the switches between processes sharing the core). */
  systemCpuMsPerPerson: number;
  loadCpu: number;
  rssIdle: number;
  rssPeak: number;
  redisPerPair: number | undefined;
  /** Redis commands per pair by command (scripts' inner commands included). */
  redisMix: Record<string, number>;
  /** Redis main-thread CPU per pair, µs. */
  redisUsPerPair: number | undefined;
  retries: Record<string, number>;
  errors: Record<string, number>;
}

async function crowd(target: Target, people = PEOPLE): Promise<RunResult> {
  out(
    `\n## ${people === PEOPLE ? '' : '(warm-up, not reported) '}${target.name}: ${fmt(people)} people at ${fmt(RATE)}/s, ${ROUNDS} rounds of ${fmt(HOLD_MS)} ms, ${WORKERS} load processes`,
  );
  await new Promise((r) => setTimeout(r, 1000));
  const rssIdle = (await Promise.all(target.pids.map(rssMiB))).reduce((a, b) => a + b, 0);
  let rssPeak = rssIdle;
  const sampler = setInterval(() => {
    void Promise.all(target.pids.map(rssMiB)).then(
      (xs) =>
        (rssPeak = Math.max(
          rssPeak,
          xs.reduce((a, b) => a + b, 0),
        )),
    );
  }, 250);
  const redis0 = REDIS && target.name.startsWith('Duet') ? await redisStats() : undefined;
  const cpu0 = await cpuOf(target.pids);
  const t0 = now() + 1500; // the workers start and connect first
  const arrivalsMs = (people * 1000) / RATE;
  const deadline = t0 + Math.min(BUDGET_MS, arrivalsMs + GIVE_UP_MS + ROUNDS * (HOLD_MS + WAIT_MS) + 5_000);
  const reports = await Promise.all(
    Array.from({ length: WORKERS }, (_, index) => {
      const plan: WorkerPlan = {
        bases: target.bases.slice(0, LOAD_NODES),
        t0,
        people,
        rate: RATE,
        rounds: ROUNDS,
        holdMs: HOLD_MS,
        waitMs: WAIT_MS,
        giveUpMs: GIVE_UP_MS,
        index,
        workers: WORKERS,
        deadline,
      };
      const profile = LOAD_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(LOAD_PROFILE_DIR)}`] : [];
      const [cmd, argv] = pinned(1, [process.execPath, ...profile, '--import', 'tsx', path.join(HERE, 'lib/crowdWorker.ts')]);
      const w = spawn(cmd, argv, { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      const kill = setTimeout(() => w.kill('SIGKILL'), deadline - now() + 30_000);
      w.send(plan);
      return new Promise<WorkerReport>((resolve, reject) => {
        w.once('message', (r) => resolve(r as WorkerReport));
        w.once('exit', (code) => reject(new Error(`load process ${index} exited with ${code} before reporting`)));
      }).finally(() => clearTimeout(kill));
    }),
  );
  const tEnd = now();
  const cpu1 = await cpuOf(target.pids);
  const cpuS = cpu1.user + cpu1.system - cpu0.user - cpu0.system;
  clearInterval(sampler);
  const redis1 = redis0 === undefined ? undefined : await redisStats();

  const lat = new Samples();
  const admit = new Samples();
  const steps = { session: new Samples(), rules: new Samples(), socket: new Samples() };
  const calls = new Map<string, { n: number; at: number }>();
  let lastIn = 0;
  const sum = (k: 'arrived' | 'gotIn' | 'neverMatched' | 'waitsGivenUp' | 'doubleMatches' | 'cpuMs') =>
    reports.reduce((a, r) => a + r[k], 0);
  const merge = (k: 'retries' | 'errors') => {
    const bag: Record<string, number> = {};
    for (const r of reports) for (const [key, v] of Object.entries(r[k])) bag[key] = (bag[key] ?? 0) + v;
    return bag;
  };
  for (const r of reports) {
    for (const x of r.latencies) lat.add(x);
    for (const x of r.admitMs) admit.add(x);
    for (const k of ['session', 'rules', 'socket'] as const) for (const x of r.stepMs[k]) steps[k].add(x);
    lastIn = Math.max(lastIn, r.lastInAt);
    for (const [id, at] of r.matches) {
      const c = calls.get(id);
      if (c) c.n += 1;
      else calls.set(id, { n: 1, at });
    }
  }
  // A call told to more than two people is a double match as much as a person told twice.
  let crowded = 0;
  let first = Infinity;
  let last = 0;
  for (const c of calls.values()) {
    if (c.n > 2) crowded += 1;
    first = Math.min(first, c.at);
    last = Math.max(last, c.at);
  }
  const [p50, p99] = lat.percentiles(50, 99);
  const [a50, a99] = admit.percentiles(50, 99);
  const result: RunResult = {
    name: target.name,
    people,
    arrived: sum('arrived'),
    neverIn: people - sum('gotIn'),
    neverMatched: sum('neverMatched'),
    waitsGivenUp: sum('waitsGivenUp'),
    doubleMatches: sum('doubleMatches') + crowded,
    p50: p50!,
    p99: p99!,
    admitP50: a50!,
    admitP99: a99!,
    allInS: lastIn === 0 ? Number.NaN : Math.max(0, (lastIn - (t0 + ((people - 1) * 1000) / RATE)) / 1000),
    pairsPerS: calls.size / Math.max(0.001, (last - first) / 1000),
    pairs: calls.size,
    serverCpu: (100 * cpuS) / ((tEnd - t0) / 1000),
    cpuMsPerPerson: (cpuS * 1000) / Math.max(1, sum('gotIn')),
    systemCpuMsPerPerson: ((cpu1.system - cpu0.system) * 1000) / Math.max(1, sum('gotIn')),
    loadCpu: sum('cpuMs') / (tEnd - t0 + 1500),
    rssIdle,
    rssPeak,
    redisPerPair:
      redis0 === undefined || redis1 === undefined
        ? undefined
        : Object.values(commandsPerPair(redis0.commands, redis1.commands, calls.size)).reduce((a, b) => a + b, 0),
    redisMix: redis0 === undefined || redis1 === undefined ? {} : commandsPerPair(redis0.commands, redis1.commands, calls.size),
    redisUsPerPair:
      redis0 === undefined || redis1 === undefined ? undefined : ((redis1.cpuS - redis0.cpuS) * 1e6) / Math.max(1, calls.size),
    retries: merge('retries'),
    errors: merge('errors'),
  };
  out(
    `  in: ${fmt(people - result.neverIn)} of ${fmt(people)} (arrival → in p50/p99 ${fmt(a50!, 1)} / ${fmt(a99!, 1)} ms); pairs ${fmt(calls.size)}; waits given up ${fmt(result.waitsGivenUp)}; wall ${fmt((tEnd - t0) / 1000, 1)} s`,
  );
  const line = (bag: Record<string, number>, digits = 0) =>
    Object.entries(bag)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} ${fmt(v, digits)}`)
      .join(', ') || 'none';
  out(
    `  steps p50 / p99 ms: ${(['session', 'rules', 'socket'] as const)
      .map(
        (k) =>
          `${k} ${steps[k]
            .percentiles(50, 99)
            .map((x) => fmt(x, 1))
            .join(' / ')}`,
      )
      .join('; ')}`,
  );
  if (redis0)
    out(
      `  Redis per pair: ${fmt(result.redisUsPerPair ?? Number.NaN)} µs of its CPU; ${fmt(result.redisPerPair ?? Number.NaN, 1)} commands (${line(result.redisMix, 1)})`,
    );
  out(`  retries: ${line(result.retries)}`);
  out(`  errors: ${line(result.errors)}`);
  return result;
}

// ---- the sitting ----------------------------------------------------------------------------

function ratio(x: number, floor: number | undefined, digits = 1): string {
  return floor === undefined || !Number.isFinite(x) || !Number.isFinite(floor) || floor === 0 ? '' : ` (${fmt(x / floor, digits)}×)`;
}

async function main(): Promise<void> {
  const load = os.loadavg().map((x) => x.toFixed(2));
  out(
    `# bench:crowd — ${machine()}; load average before ${load.join(' ')}; ${PIN ? 'servers on core 0, load on core 1 (taskset)' : 'not pinned'}`,
  );
  const results: RunResult[] = [];
  if (!flag('duet-only')) {
    const floor = await startFloor();
    try {
      if (WARMUP > 0) await crowd(floor, WARMUP);
      results.push(await crowd(floor));
    } finally {
      await floor.stop();
    }
  }
  if (!flag('floor-only')) {
    for (const main of MAINS) {
      const duet = await startDuet(main);
      try {
        if (WARMUP > 0) await crowd(duet, WARMUP);
        results.push(await crowd(duet));
      } finally {
        await duet.stop();
      }
    }
  }
  const floor = results.find((r) => r.name === 'FIFO floor');
  out();
  out(
    table(
      [
        'server',
        'people',
        'never got in',
        'never matched',
        'double matches',
        'join→match p50 / p99 ms',
        'all in (s after last arrival)',
        'pairs/s',
        'server CPU',
        'server CPU ms per person in (of it system)',
        'RSS idle→peak MiB',
        ...(REDIS ? ['Redis commands per pair'] : []),
      ],
      results.map((r) => {
        const f = r === floor ? undefined : floor;
        return [
          r.name,
          fmt(r.people),
          fmt(r.neverIn),
          fmt(r.neverMatched),
          fmt(r.doubleMatches),
          `${fmt(r.p50, 1)}${ratio(r.p50, f?.p50)} / ${fmt(r.p99, 1)}${ratio(r.p99, f?.p99)}`,
          `${fmt(r.allInS, 1)}`,
          `${fmt(r.pairsPerS)}${ratio(r.pairsPerS, f?.pairsPerS, 2)}`,
          `${fmt(r.serverCpu)} %`,
          `${fmt(r.cpuMsPerPerson, 2)}${ratio(r.cpuMsPerPerson, f?.cpuMsPerPerson)} (${fmt(r.systemCpuMsPerPerson, 2)})`,
          `${fmt(r.rssIdle)} → ${fmt(r.rssPeak)}`,
          ...(REDIS ? [r.redisPerPair === undefined ? '–' : fmt(r.redisPerPair, 1)] : []),
        ];
      }),
    ),
  );
  out(`load processes' CPU (share of one core): ${results.map((r) => `${r.name} ${fmt(100 * r.loadCpu)} %`).join('; ')}`);
  out(
    `load average after ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
  const json = JSON.stringify({
    people: PEOPLE,
    rate: RATE,
    rounds: ROUNDS,
    holdMs: HOLD_MS,
    nodes: NODES,
    redis: REDIS,
    postgres: POSTGRES,
    results,
  });
  out(`JSON ${json}`);
  if (JSON_FILE) await writeFile(JSON_FILE, json + '\n');
  if (results.some((r) => r.doubleMatches > 0)) process.exitCode = 1;
}

const hardStop = setTimeout(
  () => {
    process.stderr.write('bench:crowd: over its budget; stopping\n');
    for (const p of started) {
      try {
        process.kill(-p.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    process.exit(2);
  },
  2 * BUDGET_MS + 180_000,
);
hardStop.unref();
await main();
