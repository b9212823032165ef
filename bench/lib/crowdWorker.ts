/**
 * One load-generating process of `bench:crowd` (started by bench/crowd.ts with `fork`, one of
 * several, so that none comes near the 20,000 open files a process may hold). It plays its share of
 * the crowd — person i of N arrives at t0 + i / rate — doing what `@duet/client` does for a new
 * visitor: POST /api/session, POST /api/rules/accept, the socket with hello, join, then rounds of
 * a call held for --hold-ms and `next`, and finally `leave`. Like the SDK it honours `server_busy`
 * (HTTP 503 with Retry-After, or the socket closed with CLOSE.busy) by waiting and trying again,
 * and retries a failed socket with the SDK's backoff; a person who is not in within `giveUpMs` of
 * arriving counts as never got in.
 */
import { Agent, request } from 'node:http';
import { WebSocket } from 'ws';
import { CLOSE, PROTOCOL_VERSION, retryAfterOf } from '../../packages/protocol/src/index.js';

export interface WorkerPlan {
  /** http://host:port of each node; person i uses node i % nodes.length. */
  bases: string[];
  /** Epoch ms (performance.timeOrigin + now) of the first arrival. */
  t0: number;
  people: number;
  rate: number;
  rounds: number;
  holdMs: number;
  /** A wait for a partner longer than this is given up (counted). */
  waitMs: number;
  /** Not in (welcomed) within this long after arriving: never got in. */
  giveUpMs: number;
  /** This worker plays people i with i % workers === index. */
  index: number;
  workers: number;
  /** Epoch ms after which everything still running is abandoned and reported. */
  deadline: number;
}

export interface WorkerReport {
  arrived: number;
  gotIn: number;
  /** In, but no partner in any round. */
  neverMatched: number;
  /** Waits for a partner that passed waitMs. */
  waitsGivenUp: number;
  roundsDone: number;
  /** Matched while already in a call (per person). */
  doubleMatches: number;
  /** join/next/requeue → matched, ms. */
  latencies: number[];
  /** [callId, epoch ms of the matched message] for every match seen. */
  matches: Array<[string, number]>;
  /** Epoch ms of the last person's welcome. */
  lastInAt: number;
  /** Arrival → welcome, ms. */
  admitMs: number[];
  /** How long each step took, retries included, ms. */
  stepMs: { session: number[]; rules: number[]; socket: number[] };
  retries: Record<string, number>;
  errors: Record<string, number>;
  cpuMs: number;
}

const BACKOFF_MS = [500, 1000, 2000, 4000, 8000];
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));

class Busy extends Error {
  constructor(readonly retryAfterMs: number) {
    super('server_busy');
  }
}

function main(plan: WorkerPlan): Promise<WorkerReport> {
  const report: WorkerReport = {
    arrived: 0,
    gotIn: 0,
    neverMatched: 0,
    waitsGivenUp: 0,
    roundsDone: 0,
    doubleMatches: 0,
    latencies: [],
    matches: [],
    lastInAt: 0,
    admitMs: [],
    stepMs: { session: [], rules: [], socket: [] },
    retries: {},
    errors: {},
    cpuMs: 0,
  };
  const count = (bag: Record<string, number>, k: string) => (bag[k] = (bag[k] ?? 0) + 1);

  /** Each person is a browser of its own: one kept-alive connection for its requests, as a browser keeps. */
  function post(
    agent: Agent,
    node: number,
    path: string,
    from: string,
    body: string,
    token?: string,
  ): Promise<{ status: number; body: string }> {
    const url = new URL(path, plan.bases[node]);
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        {
          method: 'POST',
          agent,
          timeout: 10_000,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            'x-forwarded-for': from,
            ...(token ? { authorization: `Bearer ${token}` } : {}),
          },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => {
            if (res.statusCode === 503) {
              const after = Number(res.headers['retry-after'] ?? '1');
              return reject(new Busy((Number.isFinite(after) ? after : 1) * 1000));
            }
            resolve({ status: res.statusCode ?? 0, body: text });
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', reject);
      req.end(body);
    });
  }

  /** Retries busy answers after their Retry-After and network failures with backoff, until `until`. */
  async function withRetry<T>(what: string, until: number, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        const busy = err instanceof Busy;
        count(report.retries, busy ? `${what} busy` : `${what} ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
        const wait = busy ? err.retryAfterMs : BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)]!;
        if (now() + wait > until) throw err;
        await sleep(wait);
      }
    }
  }

  async function person(i: number): Promise<void> {
    await sleep(plan.t0 + (i * 1000) / plan.rate - now());
    if (now() > plan.deadline) return;
    report.arrived += 1;
    const arrivedAt = now();
    const until = Math.min(arrivedAt + plan.giveUpMs, plan.deadline);
    const node = i % plan.bases.length;
    const from = `2001:db8:${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}::1`;
    let ws: WebSocket;
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      let t = now();
      const s = await withRetry('session', until, () => post(agent, node, '/api/session', from, '{}'));
      report.stepMs.session.push(now() - t);
      t = now();
      if (s.status !== 200) throw new Error(`session ${s.status}`);
      const { token } = JSON.parse(s.body) as { token: string };
      const a = await withRetry('rules', until, () =>
        post(agent, node, '/api/rules/accept', from, JSON.stringify({ adult: true, rulesVersion: 1 }), token),
      );
      if (a.status !== 204) throw new Error(`rules ${a.status}`);
      report.stepMs.rules.push(now() - t);
      agent.destroy();
      t = now();
      ws = await withRetry('socket', until, () => open(node, from, token, until));
      report.stepMs.socket.push(now() - t);
    } catch (err) {
      agent.destroy();
      count(report.errors, `never in: ${err instanceof Busy ? 'busy' : ((err as NodeJS.ErrnoException).code ?? (err as Error).message)}`);
      return;
    }
    report.gotIn += 1;
    report.lastInAt = Math.max(report.lastInAt, now());
    report.admitMs.push(now() - arrivedAt);
    await rounds(ws);
  }

  /** Opens the socket and says hello; resolves on welcome. */
  function open(node: number, from: string, token: string, until: number): Promise<WebSocket> {
    return new Promise((resolve, reject) => {
      const url = plan.bases[node]!.replace(/^http/, 'ws') + '/ws';
      const ws = new WebSocket(url, {
        perMessageDeflate: false,
        headers: { 'x-forwarded-for': from },
        handshakeTimeout: Math.max(1000, Math.min(10_000, until - now())),
      });
      let settled = false;
      const fail = (err: Error) => {
        if (settled) return;
        settled = true;
        ws.removeAllListeners();
        ws.on('error', () => undefined);
        ws.terminate();
        reject(err);
      };
      ws.on('unexpected-response', (_req, res) => {
        const after = Number(res.headers['retry-after'] ?? '1');
        res.resume();
        fail(res.statusCode === 503 ? new Busy((Number.isFinite(after) ? after : 1) * 1000) : new Error(`upgrade ${res.statusCode}`));
      });
      ws.on('open', () => ws.send(JSON.stringify({ type: 'hello', v: PROTOCOL_VERSION, token })));
      ws.on('message', (data) => {
        const m = JSON.parse(String(data)) as { type: string };
        if (m.type !== 'welcome' || settled) return;
        settled = true;
        ws.removeAllListeners();
        ws.on('error', () => undefined);
        resolve(ws);
      });
      ws.on('close', (code, reason) => {
        if (code === CLOSE.busy) fail(new Busy(retryAfterOf(reason.toString()) ?? 1000));
        else fail(new Error(`closed ${code}`));
      });
      ws.on('error', (err) => fail(err));
    });
  }

  /** The rounds: join, hold the call, next (the offerer; the answerer is requeued), leave after the last. */
  function rounds(ws: WebSocket): Promise<void> {
    return new Promise((resolve) => {
      let callId: string | undefined;
      let waitingSince: number | undefined = now();
      let done = 0;
      let finished = false;
      let waitTimer: NodeJS.Timeout | undefined;
      const finish = () => {
        if (finished) return;
        finished = true;
        clearTimeout(waitTimer);
        if (done === 0) report.neverMatched += 1;
        report.roundsDone += done;
        ws.removeAllListeners();
        ws.on('error', () => undefined);
        ws.close(1000, 'bye');
        resolve();
      };
      const leave = () => {
        if (finished) return;
        ws.send(JSON.stringify(callId ? { type: 'leave', callId } : { type: 'leave' }));
        finish();
      };
      const waiting = (since: number) => {
        waitingSince = since;
        clearTimeout(waitTimer);
        waitTimer = setTimeout(
          () => {
            report.waitsGivenUp += 1;
            finish();
          },
          Math.min(plan.waitMs, Math.max(0, plan.deadline - now())),
        );
      };
      ws.on('message', (data) => {
        const m = JSON.parse(String(data)) as { type: string; callId?: string; role?: string; then?: string; by?: string; code?: string };
        if (m.type === 'matched') {
          const t = now();
          if (callId !== undefined) report.doubleMatches += 1;
          callId = m.callId;
          clearTimeout(waitTimer);
          if (waitingSince !== undefined) report.latencies.push(t - waitingSince);
          waitingSince = undefined;
          report.matches.push([m.callId!, t]);
          done += 1;
          const mine = m.callId;
          const role = m.role;
          // The offerer moves on first; the answerer only leaves after its last round.
          setTimeout(
            () => {
              if (callId !== mine || finished) return;
              if (done >= plan.rounds || now() > plan.deadline) leave();
              else if (role === 'offerer') {
                ws.send(JSON.stringify({ type: 'next', callId: mine }));
                waiting(now());
              }
            },
            role === 'offerer' ? plan.holdMs : plan.holdMs + 100,
          );
        } else if (m.type === 'call_ended') {
          if (m.callId === callId) callId = undefined;
          // Requeued by the partner's Next after the last round: out of the queue, and home.
          if (done >= plan.rounds) leave();
          else if (m.then === 'waiting') {
            // The partner of an ended call says it saw the end, as the SDK does, and is queued again.
            if (m.by !== 'you') {
              ws.send(JSON.stringify({ type: 'requeue', callId: m.callId }));
              waiting(now());
            }
          } else if (!finished) {
            ws.send('{"type":"join"}');
            waiting(now());
          }
        } else if (m.type === 'error') {
          count(report.errors, `error ${m.code}`);
        }
      });
      ws.on('close', (code) => {
        if (!finished) count(report.errors, `closed ${code} while in`);
        finish();
      });
      ws.on('error', () => undefined);
      ws.send('{"type":"join"}');
      waiting(now());
    });
  }

  const all: Array<Promise<void>> = [];
  for (let i = plan.index; i < plan.people; i += plan.workers) all.push(person(i));
  return Promise.all(all).then(() => {
    const cpu = process.cpuUsage();
    report.cpuMs = (cpu.user + cpu.system) / 1000;
    return report;
  });
}

process.on('message', (plan: WorkerPlan) => {
  void main(plan).then((r) => process.send!(r, () => process.exit(0)));
});
