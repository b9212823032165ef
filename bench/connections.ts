/**
 * Many people on one node (issue 12): the Duet server in a child process holds --hold connected
 * people (session → rules → /ws → hello, then idle: the audience of presence pushes) opened by
 * several load processes (this file again, with --holder; each far under the 20,000 open files a
 * process may hold), while a small matching workload (bench/lib/crowdWorker.ts: newcomers arriving,
 * joining, matching, skipping and leaving) runs beside them. Measured: server RSS idle → with the
 * crowd connected → per connection, V8 heap used, open files, event-loop lag p99 and CPU (from
 * /metrics and /proc), join→match of the workload, and the intervals between presence pushes seen
 * by the idle people; then everyone disconnects and RSS is read again. Server on core 0, load on
 * core 1 (taskset), as bench:crowd.
 *
 *   npm run bench:connections -- [--hold=19000,...] [--holders=4] [--pairs-per-s=50] [--measure-s=20]
 *                                 [--server-main=PATH,...] (other builds' main.js; each runs in turn)
 *                                 [--heap-snapshot] (the server writes one with the crowd connected, in its data folder's parent)
 *                                 [--env=KEY=VALUE,...] [--budget-s=300] [--json=FILE]
 *
 * Bounded: every run has a deadline, every process a budget; exits 1 when a double match was seen.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { PROTOCOL_VERSION } from '../packages/protocol/src/index.js';
import type { WorkerPlan, WorkerReport } from './lib/crowdWorker.js';
import { arg, argList, flag, machine } from './lib/machine.js';
import { Samples, fmt, out, table } from './lib/stats.js';
import { freePort } from '../packages/server/src/testing/net.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const HERE = fileURLToPath(new URL('.', import.meta.url));
const SELF = fileURLToPath(import.meta.url);
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));

// ---- a holder: one load process holding its share of the crowd --------------------------------

interface HolderPlan {
  base: string;
  /** People [from, to) of the crowd; person i comes from its own (forwarded) address. */
  from: number;
  to: number;
  /** People being let in at once by this process. */
  concurrency: number;
  /** Every this many-th person records the intervals between the presence pushes it receives. */
  sampleEvery: number;
  deadline: number;
}

type ToHolder = { t: 'plan'; plan: HolderPlan } | { t: 'measure' } | { t: 'report' } | { t: 'close' };
interface Connected {
  t: 'connected';
  connected: number;
  failed: number;
  errors: Record<string, number>;
}
interface HolderReport {
  t: 'report';
  /** Intervals between consecutive presence pushes at the sampled people, ms. */
  intervals: number[];
  /** Presence pushes received by all of this process's people during the window. */
  pushes: number;
  /** People who received no push during the window. */
  silent: number;
  /** Still connected at the end of the window. */
  open: number;
  /** The highest `online` a push said. */
  online: number;
  closedMeanwhile: number;
  cpuMs: number;
}

async function holder(): Promise<void> {
  const plan = await new Promise<HolderPlan>((resolve) => process.once('message', (m: ToHolder) => m.t === 'plan' && resolve(m.plan)));
  const stop = setTimeout(() => process.exit(3), plan.deadline - now() + 10_000);
  stop.unref();
  process.once('disconnect', () => process.exit(0));
  const n = plan.to - plan.from;
  const sockets: Array<WebSocket | undefined> = new Array(n);
  const lastPush = new Float64Array(n);
  const pushes = new Uint32Array(n);
  const intervals: number[] = [];
  let measuring = false;
  let online = 0;
  let closedMeanwhile = 0;
  const errors: Record<string, number> = {};
  const count = (k: string) => (errors[k] = (errors[k] ?? 0) + 1);
  const PRESENCE = Buffer.from('{"type":"presence"');

  async function post(path: string, from: string, body: string, token?: string): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      const res = await fetch(plan.base + path, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-forwarded-for': from,
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body,
        signal: AbortSignal.timeout(15_000),
      });
      if (res.status !== 503 || attempt >= 20 || now() > plan.deadline) return res;
      await res.arrayBuffer();
      count(`${path} busy`);
      await sleep(Number(res.headers.get('retry-after') ?? '1') * 1000);
    }
  }

  function open(k: number, from: string, token: string): Promise<WebSocket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(plan.base.replace(/^http/, 'ws') + '/ws', {
        perMessageDeflate: false,
        headers: { 'x-forwarded-for': from },
        handshakeTimeout: 15_000,
      });
      let welcomed = false;
      ws.on('open', () => ws.send(JSON.stringify({ type: 'hello', v: PROTOCOL_VERSION, token })));
      ws.on('message', (data: Buffer) => {
        if (!welcomed) {
          const m = JSON.parse(String(data)) as { type: string; code?: string };
          if (m.type === 'welcome') {
            welcomed = true;
            resolve(ws);
          } else if (m.type === 'error') count(`hello error ${m.code}`);
          return;
        }
        if (data.length < PRESENCE.length || data.compare(PRESENCE, 0, PRESENCE.length, 0, PRESENCE.length) !== 0) return;
        if (!measuring) return;
        const t = now();
        pushes[k]! += 1;
        if (k % plan.sampleEvery === 0) {
          if (lastPush[k]! > 0) intervals.push(t - lastPush[k]!);
          lastPush[k] = t;
          const m = JSON.parse(String(data)) as { online: number };
          online = Math.max(online, m.online);
        }
      });
      ws.on('error', (err) => {
        if (!welcomed) reject(err);
      });
      ws.on('unexpected-response', (_req, res) => {
        res.resume();
        reject(new Error(`upgrade ${res.statusCode}`));
      });
      ws.on('close', (code) => {
        if (!welcomed) reject(new Error(`closed ${code}`));
        else if (sockets[k] === ws) {
          sockets[k] = undefined;
          closedMeanwhile += 1;
        }
      });
    });
  }

  async function person(k: number): Promise<boolean> {
    const i = plan.from + k;
    const from = `2001:db8:1:${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}::1`;
    for (let attempt = 0; attempt < 5 && now() < plan.deadline; attempt++) {
      try {
        const s = await post('/api/session', from, '{}');
        if (s.status !== 200) throw new Error(`session ${s.status}`);
        const { token } = (await s.json()) as { token: string };
        const a = await post('/api/rules/accept', from, JSON.stringify({ adult: true, rulesVersion: 1 }), token);
        await a.arrayBuffer();
        if (a.status !== 204) throw new Error(`rules ${a.status}`);
        sockets[k] = await open(k, from, token);
        return true;
      } catch (err) {
        count((err as NodeJS.ErrnoException).code ?? (err as Error).message);
        await sleep(500 * 2 ** attempt);
      }
    }
    return false;
  }

  let next = 0;
  let connected = 0;
  await Promise.all(
    Array.from({ length: plan.concurrency }, async () => {
      while (next < n) if (await person(next++)) connected += 1;
    }),
  );
  process.send!({ t: 'connected', connected, failed: n - connected, errors } satisfies Connected);

  process.on('message', (m: ToHolder) => {
    if (m.t === 'measure') {
      measuring = true;
      pushes.fill(0);
      lastPush.fill(0);
      intervals.length = 0;
    } else if (m.t === 'report') {
      measuring = false;
      let total = 0;
      let silent = 0;
      let open = 0;
      for (let k = 0; k < n; k++) {
        if (sockets[k] === undefined) continue;
        open += 1;
        total += pushes[k]!;
        if (pushes[k] === 0) silent += 1;
      }
      const cpu = process.cpuUsage();
      const report: HolderReport = {
        t: 'report',
        intervals,
        pushes: total,
        silent,
        open,
        online,
        closedMeanwhile,
        cpuMs: (cpu.user + cpu.system) / 1000,
      };
      process.send!(report);
    } else if (m.t === 'close') {
      for (const ws of sockets) {
        ws?.removeAllListeners('close');
        ws?.close(1000, 'bye');
      }
      // Closing handshakes finish (or the server cuts them); then this process is done.
      setTimeout(() => process.send!({ t: 'closed' }, () => process.exit(0)), 3_000);
    }
  });
}

// ---- the run ------------------------------------------------------------------------------------

const HOLDS = argList('hold', ['19000']).map(Number);
const HOLDERS = Number(arg('holders', '0'));
const PAIRS_PER_S = Number(arg('pairs-per-s', '50'));
const MEASURE_MS = Number(arg('measure-s', '20')) * 1000;
const BUDGET_MS = Number(arg('budget-s', '300')) * 1000;
const JSON_FILE = arg('json', undefined);
const MAINS = (arg('server-main', undefined) ?? path.join(ROOT, 'packages/server/dist/main.js')).split(',').map((m) => path.resolve(m));
const EXTRA_ENV = Object.fromEntries(
  (arg('env', '') || '')
    .split(',')
    .filter(Boolean)
    .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
);
const PIN = os.availableParallelism() >= 2 && existsSync('/usr/bin/taskset') && !flag('no-pin');
const pinned = (core: number, argv: string[]) =>
  (PIN ? ['/usr/bin/taskset', ['-c', String(core), ...argv]] : [argv[0]!, argv.slice(1)]) as [string, string[]];
const started = new Set<ChildProcess>();

async function waitFor(what: string, ms: number, probe: () => Promise<boolean>): Promise<void> {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    if (await probe().catch(() => false)) return;
    await sleep(200);
  }
  throw new Error(`${what}: not within ${ms} ms`);
}

async function stopProcess(p: ChildProcess, graceMs = 20_000): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise<void>((r) => p.once('exit', () => r()));
  p.kill('SIGTERM');
  const timer = setTimeout(() => p.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** What /proc says of a process: RSS (MiB), CPU seconds, open files. */
async function proc(pid: number): Promise<{ rss: number; cpu: number; fds: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return {
    rss: Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN) / 1024,
    cpu: (Number(fields[11]) + Number(fields[12])) / 100,
    fds: (await readdir(`/proc/${pid}/fd`)).length,
  };
}

/** duet_* gauges of /metrics (scraping also resets the event-loop lag histogram). */
async function metrics(base: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(20_000) })).text();
  const m = new Map<string, number>();
  for (const line of text.split('\n')) {
    const hit = /^(duet_[a-z0-9_]+)(?:\{[^}]*\})? ([0-9.e+-]+)$/.exec(line);
    if (hit && !m.has(hit[1]!)) m.set(hit[1]!, Number(hit[2]));
  }
  return m;
}

interface RunResult {
  build: string;
  hold: number;
  connected: number;
  failed: number;
  connectS: number;
  rssIdle: number;
  rssConnected: number;
  rssAfterWorkload: number;
  rssAfterDisconnect: number;
  kibPerConnection: number;
  heapIdle: number;
  heapConnected: number;
  heapKibPerConnection: number;
  fdsConnected: number;
  lagP99Ms: number;
  lagMeanMs: number;
  serverCpu: number;
  joinP50: number;
  joinP99: number;
  pairs: number;
  pairsPerS: number;
  doubleMatches: number;
  neverMatched: number;
  workloadErrors: Record<string, number>;
  presenceP50: number;
  presenceP99: number;
  presenceMax: number;
  pushesPerPersonPerS: number;
  silent: number;
  dropped: number;
  holdErrors: Record<string, number>;
}

async function run(MAIN: string, HOLD: number): Promise<RunResult> {
  const deadline = now() + BUDGET_MS;
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'duet-conns-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const snapshot = flag('heap-snapshot') ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${dataDir}`] : [];
  const [cmd, argv] = pinned(0, [process.execPath, ...snapshot, MAIN]);
  const server = spawn(cmd, argv, {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      SESSION_RATE_LIMIT: '100000',
      WS_MAX_PER_ADDRESS: '1000000',
      TRUST_PROXY: 'true',
      NODE_ENV: 'production',
      TURN_MODE: 'off',
      DUET_SECRET: randomBytes(36).toString('base64url'),
      ...EXTRA_ENV,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  started.add(server);
  const pid = server.pid!;
  const holders: ChildProcess[] = [];
  const build = MAIN.startsWith(ROOT) ? 'this checkout' : path.relative(os.tmpdir(), MAIN).split(path.sep)[0]!;
  try {
    await waitFor('Duet', 30_000, async () => (await fetch(`${base}/healthz`)).ok);
    out(`\n## ${build}: ${fmt(HOLD)} connected, matching at ${fmt(PAIRS_PER_S)} pairs/s for ${fmt(MEASURE_MS / 1000)} s`);
    await sleep(2_000);
    const idle = await proc(pid);
    const m0 = await metrics(base);

    // The crowd comes in and stays.
    const nHolders = HOLDERS || Math.max(2, Math.ceil(HOLD / 5000));
    const t0 = now();
    const connected = await Promise.all(
      Array.from({ length: nHolders }, (_, h) => {
        const [c, a] = pinned(1, [process.execPath, '--import', 'tsx', SELF, '--holder']);
        const p = spawn(c, a, { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
        holders.push(p);
        const plan: HolderPlan = {
          base,
          from: Math.floor((h * HOLD) / nHolders),
          to: Math.floor(((h + 1) * HOLD) / nHolders),
          concurrency: 16,
          sampleEvery: 20,
          deadline,
        };
        p.send({ t: 'plan', plan } satisfies ToHolder);
        return new Promise<Connected>((resolve, reject) => {
          p.once('message', (m: Connected) => resolve(m));
          p.once('exit', (code) => reject(new Error(`holder ${h} exited with ${code}`)));
        });
      }),
    );
    const connectS = (now() - t0) / 1000;
    const holdErrors: Record<string, number> = {};
    for (const c of connected) for (const [k, v] of Object.entries(c.errors)) holdErrors[k] = (holdErrors[k] ?? 0) + v;
    const nConnected = connected.reduce((a, c) => a + c.connected, 0);
    out(`  connected ${fmt(nConnected)} of ${fmt(HOLD)} in ${fmt(connectS, 1)} s (${nHolders} load processes)`);
    await sleep(5_000);
    const full = await proc(pid);
    const m1 = await metrics(base);
    out(
      `  server RSS ${fmt(idle.rss)} → ${fmt(full.rss)} MiB, heap used ${fmt((m0.get('duet_nodejs_heap_size_used_bytes') ?? 0) / 2 ** 20)} → ${fmt((m1.get('duet_nodejs_heap_size_used_bytes') ?? 0) / 2 ** 20)} MiB, ${fmt(full.fds)} open files`,
    );
    if (snapshot.length > 0) {
      server.kill('SIGUSR2');
      out(`  heap snapshot requested (in ${dataDir}; kept)`);
      await sleep(30_000);
    }

    // The matching workload beside them, while the idle crowd hears presence.
    const rounds = 3;
    const rate = (PAIRS_PER_S * 2) / rounds;
    const people = Math.max(4, Math.round((rate * MEASURE_MS) / 1000));
    for (const h of holders) h.send({ t: 'measure' } satisfies ToHolder);
    await metrics(base); // resets the lag histogram
    const cpu0 = (await proc(pid)).cpu;
    const w0 = now() + 1000;
    const workers = 2;
    const reports = await Promise.all(
      Array.from({ length: workers }, (_, index) => {
        const plan: WorkerPlan = {
          bases: [base],
          t0: w0,
          people,
          rate,
          rounds,
          holdMs: 1000,
          waitMs: 15_000,
          giveUpMs: 30_000,
          index,
          workers,
          deadline: Math.min(deadline, w0 + MEASURE_MS + 20_000),
        };
        const [c, a] = pinned(1, [process.execPath, '--import', 'tsx', path.join(HERE, 'lib/crowdWorker.ts')]);
        const w = spawn(c, a, { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
        const kill = setTimeout(() => w.kill('SIGKILL'), plan.deadline - now() + 30_000);
        w.send(plan);
        return new Promise<WorkerReport>((resolve, reject) => {
          w.once('message', (r) => resolve(r as WorkerReport));
          w.once('exit', (code) => reject(new Error(`load process ${index} exited with ${code} before reporting`)));
        }).finally(() => clearTimeout(kill));
      }),
    );
    const tEnd = now();
    const m2 = await metrics(base);
    const after = await proc(pid);
    const heard = await Promise.all(
      holders.map(
        (h) =>
          new Promise<HolderReport>((resolve) => {
            h.once('message', (m: HolderReport) => resolve(m));
            h.send({ t: 'report' } satisfies ToHolder);
          }),
      ),
    );

    // Everyone leaves.
    await Promise.all(
      holders.map(
        (h) =>
          new Promise<void>((resolve) => {
            h.once('exit', () => resolve());
            h.send({ t: 'close' } satisfies ToHolder);
          }),
      ),
    );
    await waitFor('everyone gone', 30_000, async () => (await proc(pid)).fds < idle.fds + 50).catch(() => undefined);
    await sleep(10_000);
    const gone = await proc(pid);

    const lat = new Samples();
    const intervals = new Samples();
    const calls = new Map<string, number>();
    let first = Infinity;
    let last = 0;
    for (const r of reports) {
      for (const x of r.latencies) lat.add(x);
      for (const [id, at] of r.matches) {
        calls.set(id, (calls.get(id) ?? 0) + 1);
        first = Math.min(first, at);
        last = Math.max(last, at);
      }
    }
    for (const h of heard) for (const x of h.intervals) intervals.add(x);
    const workloadErrors: Record<string, number> = {};
    for (const r of reports) for (const [k, v] of Object.entries(r.errors)) workloadErrors[k] = (workloadErrors[k] ?? 0) + v;
    const [j50, j99] = lat.percentiles(50, 99);
    const [i50, i99, imax] = intervals.percentiles(50, 99, 100);
    const open = heard.reduce((a, h) => a + h.open, 0);
    const windowS = (tEnd - w0) / 1000;
    const heap = (m: Map<string, number>) => (m.get('duet_nodejs_heap_size_used_bytes') ?? Number.NaN) / 2 ** 20;
    const result: RunResult = {
      build,
      hold: HOLD,
      connected: nConnected,
      failed: HOLD - nConnected,
      connectS,
      rssIdle: idle.rss,
      rssConnected: full.rss,
      rssAfterWorkload: after.rss,
      rssAfterDisconnect: gone.rss,
      kibPerConnection: ((full.rss - idle.rss) * 1024) / Math.max(1, nConnected),
      heapIdle: heap(m0),
      heapConnected: heap(m1),
      heapKibPerConnection: ((heap(m1) - heap(m0)) * 1024) / Math.max(1, nConnected),
      fdsConnected: full.fds,
      lagP99Ms: (m2.get('duet_nodejs_eventloop_lag_p99_seconds') ?? Number.NaN) * 1000,
      lagMeanMs: (m2.get('duet_nodejs_eventloop_lag_mean_seconds') ?? Number.NaN) * 1000,
      serverCpu: (100 * (after.cpu - cpu0)) / windowS,
      joinP50: j50!,
      joinP99: j99!,
      pairs: calls.size,
      pairsPerS: calls.size / Math.max(0.001, (last - first) / 1000),
      doubleMatches: reports.reduce((a, r) => a + r.doubleMatches, 0) + [...calls.values()].filter((n) => n > 2).length,
      neverMatched: reports.reduce((a, r) => a + r.neverMatched, 0),
      workloadErrors,
      presenceP50: i50!,
      presenceP99: i99!,
      presenceMax: imax!,
      pushesPerPersonPerS: heard.reduce((a, h) => a + h.pushes, 0) / Math.max(1, open) / windowS,
      silent: heard.reduce((a, h) => a + h.silent, 0),
      dropped: heard.reduce((a, h) => a + h.closedMeanwhile, 0),
      holdErrors,
    };
    out(
      `  workload: ${fmt(people)} newcomers, ${fmt(calls.size)} pairs (${fmt(result.pairsPerS, 1)}/s), join→match p50/p99 ${fmt(j50!, 1)} / ${fmt(j99!, 1)} ms, never matched ${fmt(result.neverMatched)}, double matches ${fmt(result.doubleMatches)}; errors ${JSON.stringify(workloadErrors)}`,
    );
    out(
      `  presence at the idle: interval p50/p99/max ${fmt(i50!)} / ${fmt(i99!)} / ${fmt(imax!)} ms, ${fmt(result.pushesPerPersonPerS, 2)} pushes/person/s, ${fmt(result.silent)} heard none, ${fmt(result.dropped)} dropped; online said ${fmt(Math.max(...heard.map((h) => h.online)))}`,
    );
    out(
      `  server: CPU ${fmt(result.serverCpu)} %, lag p99 ${fmt(result.lagP99Ms, 1)} ms (mean ${fmt(result.lagMeanMs, 1)}); RSS after the workload ${fmt(after.rss)} MiB, after everyone left ${fmt(gone.rss)} MiB (${fmt(gone.fds)} open files); hold errors ${JSON.stringify(holdErrors)}`,
    );
    return result;
  } finally {
    for (const h of holders) h.kill('SIGKILL');
    await stopProcess(server);
    if (!flag('heap-snapshot')) await rm(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  out(
    `# bench:connections — ${machine()}; open files ${fmt(Number((await readFile('/proc/self/limits', 'utf8').then((t) => /Max open files\s+(\d+)/.exec(t)?.[1])) ?? Number.NaN))} per process; load average before ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}; ${PIN ? 'server on core 0, load on core 1 (taskset)' : 'not pinned'}`,
  );
  const results: RunResult[] = [];
  for (const hold of HOLDS) for (const main of MAINS) results.push(await run(main, hold));
  out();
  out(
    table(
      [
        'build',
        'connected',
        'RSS idle → connected MiB',
        'KiB per connection (RSS)',
        'heap KiB per connection',
        'open files',
        'lag p99 ms',
        'server CPU',
        'join→match p50 / p99 ms',
        'pairs/s',
        'presence interval p50 / p99 ms',
        'RSS after leaving MiB',
      ],
      results.map((r) => [
        r.build,
        `${fmt(r.connected)}${r.failed ? ` (${fmt(r.failed)} failed)` : ''}`,
        `${fmt(r.rssIdle)} → ${fmt(r.rssConnected)}`,
        fmt(r.kibPerConnection, 1),
        fmt(r.heapKibPerConnection, 1),
        fmt(r.fdsConnected),
        fmt(r.lagP99Ms, 1),
        `${fmt(r.serverCpu)} %`,
        `${fmt(r.joinP50, 1)} / ${fmt(r.joinP99, 1)}`,
        fmt(r.pairsPerS, 1),
        `${fmt(r.presenceP50)} / ${fmt(r.presenceP99)}`,
        fmt(r.rssAfterDisconnect),
      ]),
    ),
  );
  out(
    `load average after ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
  const json = JSON.stringify({ pairsPerS: PAIRS_PER_S, measureMs: MEASURE_MS, results });
  out(`JSON ${json}`);
  if (JSON_FILE) await writeFile(JSON_FILE, json + '\n');
  if (results.some((r) => r.doubleMatches > 0)) process.exitCode = 1;
}

if (flag('holder')) {
  await holder();
} else {
  const hardStop = setTimeout(
    () => {
      process.stderr.write('bench:connections: over its budget; stopping\n');
      for (const p of started) p.kill('SIGKILL');
      process.exit(2);
    },
    HOLDS.length * MAINS.length * BUDGET_MS + 120_000,
  );
  hardStop.unref();
  await main();
}
