/**
 * End-to-end benchmark (issue #4): the real Duet server in a child process, N simultaneously
 * connected WebSocket clients on loopback, then paced joins and skips. Measures join→matched and
 * next→matched latency on the client side, and the server's memory per connection (VmRSS).
 * Not a test; it exits 1 only when the protocol's matching invariants were broken.
 *
 *   npm run bench:e2e -- [--clients=10000] [--pairs-per-s=500] [--skips-per-s=500] [--budget-s=300]
 *                         [--redis] (the server's Redis pool instead of the in-process one)
 *                         [--server-cpu-prof=DIR]   (a CPU profile of the server, written when it stops)
 *
 * Builds are not made here: `npm run bench:e2e` compiles the server first. Client and server share
 * this machine's cores, so the latencies are upper bounds for a server with the machine to itself.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { WebSocket } from 'ws';
import { PROTOCOL_VERSION } from '../packages/protocol/src/index.js';
import { arg, machine } from './lib/machine.js';
import { Samples, fmt, out, table } from './lib/stats.js';
import { freePort } from '../packages/server/src/testing/net.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MAIN = path.join(ROOT, 'packages/server/dist/main.js');

const CLIENTS = Number(arg('clients', '10000'));
const PAIRS_PER_S = Number(arg('pairs-per-s', '500'));
const SKIPS_PER_S = Number(arg('skips-per-s', '500'));
const BUDGET_MS = Number(arg('budget-s', '300')) * 1000;
const SETUP_CONCURRENCY = Number(arg('setup-concurrency', '64'));
const WAIT_MS = 15_000;
/** Runs the server with its Redis pool (REDIS_URL) instead of the in-process pool; keys are deleted at the end. */
const REDIS_URL = process.argv.includes('--redis') ? (process.env.REDIS_URL ?? 'redis://127.0.0.1:6379') : undefined;
const REDIS_PREFIX = `duet-bench:{e2e-${process.pid}-${randomBytes(4).toString('hex')}}:`;
/** Writes a CPU profile of the server (node --cpu-prof) into this folder when it exits. */
const SERVER_PROFILE_DIR = arg('server-cpu-prof', undefined);

const started = performance.now();
const deadline = started + BUDGET_MS;
const left = () => Math.max(0, deadline - performance.now());

// ---- the server ----------------------------------------------------------------------------

async function rssKiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
}

async function metrics(base: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
  const m = new Map<string, number>();
  for (const line of text.split('\n')) {
    const hit = /^(duet_[a-z0-9_]+)(?:\{[^}]*\})? ([0-9.e+-]+)$/.exec(line);
    if (hit && !m.has(hit[1]!)) m.set(hit[1]!, Number(hit[2]));
  }
  return m;
}

async function waitFor(what: string, ms: number, probe: () => Promise<boolean>): Promise<void> {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    if (await probe().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what}: not within ${ms} ms`);
}

// ---- clients --------------------------------------------------------------------------------

interface Client {
  readonly i: number;
  token: string;
  ws: WebSocket | undefined;
  userId: string | undefined;
  callId: string | undefined;
  role: 'offerer' | 'answerer' | undefined;
  /** When the action that should lead to `matched` was sent (performance.now()). */
  since: number | undefined;
  onWelcome: (() => void) | undefined;
  onMatched: ((latencyMs: number) => void) | undefined;
}

const violations: string[] = [];
let violationCount = 0;
const violation = (what: string) => {
  violationCount += 1;
  if (violations.length < 20) violations.push(what);
};
const counts = new Map<string, number>();
const members = new Map<string, Client[]>();

function onMessage(c: Client, data: Buffer): void {
  const m = JSON.parse(data.toString('utf8')) as {
    type: string;
    callId?: string;
    role?: 'offerer' | 'answerer';
    userId?: string;
    code?: string;
    then?: string;
    by?: string;
  };
  counts.set(m.type, (counts.get(m.type) ?? 0) + 1);
  switch (m.type) {
    case 'welcome':
      c.userId = m.userId;
      c.onWelcome?.();
      return;
    case 'matched': {
      if (c.callId !== undefined) violation(`${c.userId}: matched into ${m.callId} while in ${c.callId}`);
      c.callId = m.callId;
      c.role = m.role;
      const group = members.get(m.callId!) ?? [];
      group.push(c);
      members.set(m.callId!, group);
      if (group.length > 2) violation(`call ${m.callId} has ${group.length} people`);
      // The peer connection comes up at once (as if ICE took no time), so the call counts as
      // connected and the server's connect timeout never ends it behind the benchmark's back.
      c.ws?.send(JSON.stringify({ type: 'peer_state', callId: m.callId, state: 'connected' }));
      const since = c.since;
      c.since = undefined;
      c.onMatched?.(since === undefined ? Number.NaN : performance.now() - since);
      return;
    }
    case 'call_ended':
      if (c.callId !== m.callId) violation(`${c.userId}: call_ended for ${m.callId}, not its call ${c.callId}`);
      c.callId = undefined;
      c.role = undefined;
      // The partner left behind is matched again once their client acknowledges the end, as the SDK does.
      if (m.then === 'waiting' && m.by !== 'you') c.ws?.send(JSON.stringify({ type: 'requeue', callId: m.callId }));
      return;
    case 'error':
      violation(`${c.userId}: error ${m.code}`);
      return;
    default:
      return;
  }
}

function connect(c: Client, wsUrl: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl, { perMessageDeflate: false });
    c.ws = ws;
    const timer = setTimeout(() => reject(new Error(`client ${c.i}: no welcome within ${WAIT_MS} ms`)), WAIT_MS);
    c.onWelcome = () => {
      clearTimeout(timer);
      c.onWelcome = undefined;
      resolve();
    };
    ws.on('open', () => ws.send(JSON.stringify({ type: 'hello', v: PROTOCOL_VERSION, token: c.token })));
    ws.on('message', (data) => onMessage(c, data as Buffer));
    ws.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`client ${c.i}: ${err.message}`));
    });
  });
}

/** Runs `fn` over `items` with at most `limit` in flight. */
async function pool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  });
  await Promise.all(workers);
}

/**
 * Paces `count` actions at `perSecond`, each of which resolves once its people are matched (or
 * after WAIT_MS). Returns how many never were.
 */
async function paced(count: number, perSecond: number, act: (k: number) => Promise<void>): Promise<void> {
  const t0 = performance.now();
  const inFlight: Array<Promise<void>> = [];
  for (let k = 0; k < count; k++) {
    const due = t0 + (k * 1000) / perSecond;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    if (left() === 0) break;
    inFlight.push(act(k));
  }
  await Promise.all(inFlight);
}

function awaitMatched(c: Client, samples: Samples, missed: { n: number }): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      c.onMatched = undefined;
      missed.n += 1;
      resolve();
    }, WAIT_MS);
    c.onMatched = (ms) => {
      clearTimeout(timer);
      c.onMatched = undefined;
      samples.add(ms);
      resolve();
    };
  });
}

// ---- the run ----------------------------------------------------------------------------------

async function main(): Promise<void> {
  out(`# end-to-end benchmark — ${machine()}; ${fmt(CLIENTS)} clients; ${REDIS_URL ? 'Redis pool' : 'in-process pool'}`);
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'duet-bench-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  let server: ChildProcess | undefined;
  const clients: Client[] = [];
  try {
    const profile = SERVER_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(SERVER_PROFILE_DIR)}`] : [];
    server = spawn(process.execPath, [...profile, MAIN], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        PORT: String(port),
        HOST: '127.0.0.1',
        DATA_DIR: dataDir,
        LOG_LEVEL: 'warn',
        // The highest the configuration accepts; requests also come from distinct forwarded addresses.
        SESSION_RATE_LIMIT: '100000',
        WS_MAX_PER_ADDRESS: '1000000', // every simulated client comes from 127.0.0.1
        TRUST_PROXY: 'true',
        NODE_ENV: 'production',
        // Signaling only: no managed TURN relay (it would also want the fixed port 3478).
        TURN_MODE: 'off',
        ...(REDIS_URL ? { REDIS_URL, REDIS_PREFIX } : {}),
      },
      stdio: ['ignore', 'inherit', 'inherit'],
      // Its own process group, so that a forced stop also ends anything it started.
      detached: true,
    });
    const pid = server.pid!;
    await waitFor('server health', 20_000, async () => (await fetch(`${base}/healthz`)).ok);
    const rssStart = await rssKiB(pid);

    // Guests: two HTTP requests each, from distinct forwarded addresses; not measured.
    const tGuests = performance.now();
    clientsInCall = () => clients.filter((c) => c.callId !== undefined).length;
    for (let i = 0; i < CLIENTS; i++)
      clients.push({
        i,
        token: '',
        ws: undefined,
        userId: undefined,
        callId: undefined,
        role: undefined,
        since: undefined,
        onWelcome: undefined,
        onMatched: undefined,
      });
    await pool(clients, SETUP_CONCURRENCY, async (c) => {
      const from = `2001:db8:${(c.i >> 16).toString(16)}:${(c.i & 0xffff).toString(16)}::1`;
      const s = await fetch(`${base}/api/session`, { method: 'POST', headers: { 'x-forwarded-for': from } });
      if (!s.ok) throw new Error(`POST /api/session: ${s.status}`);
      c.token = ((await s.json()) as { token: string }).token;
      const a = await fetch(`${base}/api/rules/accept`, {
        method: 'POST',
        headers: { 'x-forwarded-for': from, authorization: `Bearer ${c.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ adult: true, rulesVersion: 1 }),
      });
      if (a.status !== 204) throw new Error(`POST /api/rules/accept: ${a.status}`);
    });
    const guestsS = (performance.now() - tGuests) / 1000;
    out(`guests: ${fmt(CLIENTS)} in ${fmt(guestsS, 1)} s (${fmt(CLIENTS / guestsS)}/s)`);

    // Connections: everyone says hello and stays connected.
    await new Promise((r) => setTimeout(r, 1000));
    const rssBefore = await rssKiB(pid);
    const tConnect = performance.now();
    await pool(clients, SETUP_CONCURRENCY, (c) => connect(c, `ws://127.0.0.1:${port}/ws`));
    const connectS = (performance.now() - tConnect) / 1000;
    await new Promise((r) => setTimeout(r, 2000));
    const rssConnected = await rssKiB(pid);
    const health = (await (await fetch(`${base}/healthz`)).json()) as { online: number };
    out(
      `connected: ${fmt(health.online)} online in ${fmt(connectS, 1)} s; server RSS ${fmt(rssBefore / 1024)} → ${fmt(rssConnected / 1024)} MiB`,
    );
    if (health.online !== CLIENTS) violation(`server says ${health.online} online, expected ${CLIENTS}`);

    // Phase 1: pairs of idle people join, paced; both measure join → matched.
    await metrics(base); // resets the event-loop lag histogram
    const cpu0 = (await metrics(base)).get('duet_process_cpu_seconds_total') ?? Number.NaN;
    const joinMs = new Samples();
    const joinMissed = { n: 0 };
    const tJoin = performance.now();
    await paced(CLIENTS / 2, PAIRS_PER_S, async (k) => {
      const pair = [clients[2 * k]!, clients[2 * k + 1]!];
      const done = pair.map((c) => awaitMatched(c, joinMs, joinMissed));
      for (const c of pair) {
        c.since = performance.now();
        c.ws!.send('{"type":"join"}');
      }
      await Promise.all(done);
    });
    const joinS = (performance.now() - tJoin) / 1000;
    const m1 = await metrics(base);
    out(`after the joins: ${await state(base)}`);
    const rssJoined = await rssKiB(pid);

    // Phase 2: in every call the offerer presses Next, paced; both people measure next → matched.
    const calls = [...members.entries()].filter(([, g]) => g.length === 2 && g.every((c) => c.callId !== undefined));
    members.clear();
    const nextMs = new Samples();
    const nextMissed = { n: 0 };
    const tNext = performance.now();
    await paced(calls.length, SKIPS_PER_S, async (k) => {
      const group = calls[k]![1];
      const skipper = group.find((c) => c.role === 'offerer') ?? group[0]!;
      const done = group.map((c) => awaitMatched(c, nextMs, nextMissed));
      const t = performance.now();
      for (const c of group) c.since = t;
      skipper.ws!.send(JSON.stringify({ type: 'next', callId: skipper.callId }));
      await Promise.all(done);
    });
    const nextS = (performance.now() - tNext) / 1000;
    const m2 = await metrics(base);
    out(`after the skips: ${await state(base)}`);
    const rssEnd = await rssKiB(pid);

    const [j50, j95, j99, jmax] = joinMs.percentiles(50, 95, 99, 100);
    const [n50, n95, n99, nmax] = nextMs.percentiles(50, 95, 99, 100);
    const perConn = ((rssConnected - rssBefore) * 1024) / CLIENTS;
    out();
    out(
      table(
        [
          'phase',
          'people',
          'rate',
          'p50 ms',
          'p95 ms',
          'p99 ms',
          'max ms',
          'not matched in 15 s',
          'server event-loop lag p99 ms',
          'server CPU',
        ],
        [
          [
            'join → matched',
            fmt(joinMs.count),
            `${fmt(PAIRS_PER_S * 2)} joins/s`,
            fmt(j50!, 1),
            fmt(j95!, 1),
            fmt(j99!, 1),
            fmt(jmax!, 1),
            fmt(joinMissed.n),
            fmt((m1.get('duet_nodejs_eventloop_lag_p99_seconds') ?? Number.NaN) * 1000, 1),
            `${fmt((100 * ((m1.get('duet_process_cpu_seconds_total') ?? 0) - cpu0)) / joinS)} %`,
          ],
          [
            'next → matched (both)',
            fmt(nextMs.count),
            `${fmt(SKIPS_PER_S)} skips/s`,
            fmt(n50!, 1),
            fmt(n95!, 1),
            fmt(n99!, 1),
            fmt(nmax!, 1),
            fmt(nextMissed.n),
            fmt((m2.get('duet_nodejs_eventloop_lag_p99_seconds') ?? Number.NaN) * 1000, 1),
            `${fmt((100 * ((m2.get('duet_process_cpu_seconds_total') ?? 0) - (m1.get('duet_process_cpu_seconds_total') ?? 0))) / nextS)} %`,
          ],
        ],
      ),
    );
    out();
    out(
      table(
        ['server RSS', 'MiB'],
        [
          ['at start', fmt(rssStart / 1024, 1)],
          ['after creating guests', fmt(rssBefore / 1024, 1)],
          [`with ${fmt(CLIENTS)} connected`, fmt(rssConnected / 1024, 1)],
          ['after the joins', fmt(rssJoined / 1024, 1)],
          ['after the skips', fmt(rssEnd / 1024, 1)],
        ],
      ),
    );
    out();
    out(`memory per connection: ${fmt(perConn / 1024, 1)} KiB (RSS growth from connecting, divided by ${fmt(CLIENTS)})`);
    out(`server heap used at end: ${fmt((m2.get('duet_nodejs_heap_size_used_bytes') ?? Number.NaN) / 2 ** 20)} MiB`);
    out(
      `messages received by clients: ${[...counts]
        .sort((a, b) => b[1] - a[1])
        .map(([t, n]) => `${t} ${fmt(n)}`)
        .join(', ')}`,
    );
    out(`violations: ${violationCount}`);
    for (const v of violations) out(`  violation: ${v}`);
    out(
      `JSON ${JSON.stringify({ pool: REDIS_URL ? 'redis' : 'in-process', clients: CLIENTS, pairsPerS: PAIRS_PER_S, skipsPerS: SKIPS_PER_S, guestsPerS: CLIENTS / guestsS, connectS, join: { p50: j50, p95: j95, p99: j99, max: jmax, missed: joinMissed.n, lagP99Ms: (m1.get('duet_nodejs_eventloop_lag_p99_seconds') ?? Number.NaN) * 1000 }, next: { p50: n50, p95: n95, p99: n99, max: nmax, missed: nextMissed.n, lagP99Ms: (m2.get('duet_nodejs_eventloop_lag_p99_seconds') ?? Number.NaN) * 1000 }, rssMiB: { start: rssStart / 1024, guests: rssBefore / 1024, connected: rssConnected / 1024, joined: rssJoined / 1024, end: rssEnd / 1024 }, perConnKiB: perConn / 1024, violations: violationCount })}`,
    );
    if (violationCount > 0) process.exitCode = 1;
  } finally {
    for (const c of clients) c.ws?.terminate();
    if (server?.pid !== undefined && server.exitCode === null && server.signalCode === null) {
      const pid = server.pid;
      const t0 = performance.now();
      const exited = new Promise<[number | null, string | null]>((r) => server!.once('exit', (code, signal) => r([code, signal])));
      server.kill('SIGTERM');
      const timer = setTimeout(() => {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }, 30_000);
      const [code, signal] = await exited;
      clearTimeout(timer);
      out(
        `server stopped ${signal ? `by ${signal}` : `with exit code ${code}`} ${fmt((performance.now() - t0) / 1000, 1)} s after SIGTERM`,
      );
    }
    await rm(dataDir, { recursive: true, force: true });
    if (REDIS_URL) await deleteRedisPrefix(REDIS_URL, REDIS_PREFIX);
  }
}

/** What the server and (with --redis) the shared pool say: online, waiting, in calls. */
async function state(base: string): Promise<string> {
  const h = (await (await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(10_000) })).json()) as {
    online: number;
    waiting: number;
    calls: number;
  };
  let pool = '';
  if (REDIS_URL) {
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 2 });
    try {
      pool = `; entries in the Redis pool ${fmt(await redis.zcard(`${REDIS_PREFIX}all`))}`;
    } finally {
      redis.disconnect();
    }
  }
  const inCall = clientsInCall();
  return `server: online ${fmt(h.online)}, waiting ${fmt(h.waiting)}, calls ${fmt(h.calls)}${pool}; clients in a call ${fmt(inCall)}`;
}

let clientsInCall = (): number => 0;

async function deleteRedisPrefix(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { maxRetriesPerRequest: 2 });
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

const hardStop = setTimeout(() => {
  process.stderr.write(`e2e benchmark: over its budget of ${BUDGET_MS / 1000} s plus a minute; stopping\n`);
  process.exit(2);
}, BUDGET_MS + 60_000);
hardStop.unref();
await main();
