import { createWriteStream } from 'node:fs';
import type { ServerMessage } from '@duet/protocol';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../packages/server/src/testing/postgres.js';
import { connectRedis, testPrefix } from '../../packages/server/src/testing/redis.js';
import { NodeProcess, TestClient, TestServer, withTimeout, type Guest } from './harness.js';

/**
 * Issue 12: a node killed mid-crowd loses no one beyond its own sockets. Three nodes share one
 * Redis and one PostgreSQL: n1 and n2 run in this process (their lobbies can be looked at), n3 in a
 * child process of its own, so it can be killed as a crash is (SIGKILL: no goodbye, nothing
 * published or written on the way out). A crowd spread over the three joins, holds short calls and
 * presses Next (naming the call, acknowledging ends with `requeue`, as the SDK does); mid-crowd n3
 * is killed. Its people reconnect at once to a survivor with the same token and join again.
 *
 * What must hold: everyone on the survivors keeps going (their calls with n3's people end as
 * `connection_lost` within the liveness window, they are requeued and matched again); n3's people
 * are matched again on the survivors; in the end every live person is in a call with a live
 * partner. Nobody is handed to two partners, nobody is in two calls, and nobody is matched with a
 * person on n3 once n3 is presumed dead (its `alive` key lapsed, three beats after its last).
 *
 * On a loaded machine n1 and n2 (this one process) can themselves be held up past their `alive`
 * keys and presumed dead for a moment: their calls with each other then end on both nodes as
 * `connection_lost`, and their people are requeued like everyone else's.
 */
const BEAT_MS = 150;
const LEASE_MS = 2_000;
const PER_NODE = 12;
/** Each person presses Next at most this often: join + Nexts + a rejoin stay under the moves burst (15). */
const MAX_NEXTS = 6;
/** After n3 is presumed dead, calls with a side there end within this (a partner check runs every beat; a loaded machine is late). */
const LIVENESS_MS = 2 * BEAT_MS + 1_000;

type NodeName = 'n1' | 'n2' | 'n3';

interface Stamped {
  at: number;
  m: ServerMessage;
  /** For `matched` on n1/n2: the node of the partner, from the lobby the moment the message arrived. */
  partnerNode?: string;
  /** For `matched` on n1/n2: when the node that kept the call matched it. */
  matchedAt?: number;
  /**
   * For `matched` on n1/n2, when n1 or n2 kept the call: when that node asked the pool for the
   * decision that made it. The decision came later (in Redis), the node's `matchedAt` later still:
   * on a loaded machine the pool's answer can wait hundreds of ms for the event loop.
   */
  askedAt?: number;
}

interface Conn {
  person: Person;
  node: NodeName;
  client: TestClient;
  log: Stamped[];
  /** Next presses: when, naming which call. */
  nexts: Array<{ at: number; callId: string }>;
}

interface Person {
  name: string;
  guest: Guest;
  conns: Conn[];
}

/** A small deterministic PRNG (mulberry32), so the crowd's hold times repeat run to run. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(
  what: string,
  ok: () => boolean | Promise<boolean>,
  ms: number,
  every = 20,
  explain: () => string | Promise<string> = () => '',
): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`still not ${what} after ${ms} ms${await explain()}`);
    await sleep(every);
  }
}

/**
 * When `key` lapses, once it has: exactly, by Redis's clock (the host's, as this process's), from
 * its remaining lifetime while it is still there; when it is gone at the first look (this process
 * was held up past it), by that look at the latest. Not from what the key holds (a node's last
 * beat): the test may not have read the last one before the key lapsed.
 */
async function lapsed(redis: Redis, key: string, ms: number): Promise<number> {
  const end = Date.now() + ms;
  let at: number | undefined;
  for (;;) {
    const [[, time], [, ttl]] = (await redis.multi().time().pttl(key).exec()) as [[null, [string, string]], [null, number]];
    const now = Number(time[0]) * 1_000 + Math.floor(Number(time[1]) / 1_000);
    if (ttl === -2) return at ?? now;
    at = now + ttl;
    if (Date.now() > end) throw new Error(`${key} still there after ${ms} ms`);
    await sleep(10);
  }
}

describe('a node killed mid-crowd', () => {
  let n1: TestServer;
  let n2: TestServer;
  let n3: NodeProcess;
  let dropDb: () => Promise<void>;
  const redis = connectRedis();
  const { prefix, cleanup } = testPrefix();
  const people: Person[] = [];

  beforeAll(async () => {
    const db = await createTestDatabase();
    dropDb = db.drop;
    const env = {
      DATABASE_URL: db.url,
      REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      REDIS_PREFIX: prefix,
      DUET_SECRET: 'crowd-test-secret-0123456789-abcdef',
      CLUSTER_HEARTBEAT_MS: String(BEAT_MS),
      POOL_LEASE_MS: String(LEASE_MS),
      // Everyone speaks the same language with no interests: anyone may meet anyone, at once.
      MATCH_INTERESTS_WAIT_MS: '0',
      MATCH_REGION_WAIT_MS: '0',
      // A crowd of three dozen pressing Next runs out of new faces: recent partners allowed again soon.
      MATCH_RELAX_RECENT_AFTER_MS: '300',
      // Calls here never connect media for real: keep them from timing out while a loaded machine catches up.
      CONNECT_TIMEOUT_MS: '60000',
    };
    // CROWD_LOG=<path> writes n1's and n2's logs, debug and up, to <path>.n1 and <path>.n2.
    const logTo = process.env.CROWD_LOG;
    const logged = (node: string) =>
      logTo
        ? { env: { ...env, NODE_ID: node, LOG_LEVEL: 'debug' }, create: { logStream: createWriteStream(`${logTo}.${node}`) } }
        : { env: { ...env, NODE_ID: node } };
    // The child compiles the server's sources first: start it alongside the two in-process nodes.
    [n3, n1, n2] = await Promise.all([
      NodeProcess.start({ ...env, NODE_ID: 'n3', ...(logTo ? { LOG_LEVEL: 'debug' } : {}) }),
      TestServer.start(logged('n1')),
      TestServer.start(logged('n2')),
    ]);
  }, 60_000);

  afterAll(async () => {
    for (const p of people) for (const c of p.conns) if (c.client.isOpen) c.client.terminate();
    await n3?.stop();
    await n1?.stop();
    await n2?.stop();
    await dropDb?.();
    await cleanup(redis);
    redis.disconnect();
  }, 30_000);

  it('loses no one beyond the dead node’s sockets: survivors go on, its people come back, nobody is matched twice', async () => {
    const servers = { n1, n2 } as const;
    const url = (node: NodeName) => (node === 'n3' ? n3.wsUrl : servers[node].wsUrl);
    const random = prng(12);
    const state = { churn: true, n3Alive: true };
    const unexpectedErrors: string[] = [];

    // When n1 and n2 ask the pool for each decision that starts a call they keep, by call.
    const askedAt = new Map<string, number>();
    const pair = (x: string, y: string) => (x < y ? `${x} ${y}` : `${y} ${x}`);
    for (const s of [n1, n2]) {
      const pool = s.duet.cluster!.pool;
      const matchFor = pool.matchFor.bind(pool);
      const asked = new Map<string, number>();
      pool.matchFor = async (userId, now) => {
        const at = Date.now();
        const found = await matchFor(userId, now);
        if (found && found !== 'retry') asked.set(pair(found[0].userId, found[1].userId), at);
        return found;
      };
      // The call starts as the lobby hears the pool's answer, after the wrapper above has.
      s.duet.lobby.calls.observer.on('call:matched', (call) => {
        const at = asked.get(pair(call.a, call.b));
        if (!call.primary || at === undefined) return;
        askedAt.set(call.id, at);
        asked.delete(pair(call.a, call.b));
      });
    }

    /** Opens a connection for `person` on `node`, follows the crowd's script on it, and joins. */
    async function connect(person: Person, node: NodeName): Promise<Conn> {
      const client = await TestClient.open(url(node), `${person.name}@${node}`, { from: `2001:db8:${people.indexOf(person) + 1}::1` });
      const conn: Conn = { person, node, client, log: [], nexts: [] };
      person.conns.push(conn);
      // Runs after the harness's own listener: `client.callId` already follows this message, and a
      // `call_ended` that requeues has been acknowledged.
      client.socket.on('message', (data) => {
        const m = JSON.parse(String(data)) as ServerMessage;
        const stamped: Stamped = { at: Date.now(), m };
        if (m.type === 'matched' && node !== 'n3') {
          const call = servers[node].duet.lobby.calls.get(m.callId);
          if (call) {
            const mine = call.a === client.userId ? 'a' : 'b';
            stamped.partnerNode = call.nodes[mine === 'a' ? 'b' : 'a'];
            stamped.matchedAt = call.at.matched;
            stamped.askedAt = askedAt.get(m.callId);
          }
        }
        conn.log.push(stamped);
        if (m.type === 'error' && m.code !== 'stale_call' && m.code !== 'not_in_call') unexpectedErrors.push(`${client.name}: ${m.code}`);
        if (m.type !== 'matched') return;
        client.send({ type: 'peer_state', callId: m.callId, state: 'connected' });
        if (conn.nexts.length >= MAX_NEXTS) return;
        setTimeout(
          () => {
            // Still in that call, still pressing: Next, naming the call (the harness adds its id).
            if (!state.churn || client.callId !== m.callId || !client.isOpen || conn.nexts.length >= MAX_NEXTS) return;
            conn.nexts.push({ at: Date.now(), callId: m.callId });
            client.send({ type: 'next' });
          },
          40 + Math.floor(random() * 160),
        );
      });
      await client.hello(person.guest.token);
      client.send({ type: 'join' });
      return conn;
    }

    // The crowd: a dozen people on each node, all joining at once. Their sessions are made a few at
    // a time: each request must answer within the harness's wait, which three dozen at once on a
    // loaded machine do not.
    for (let i = 0; i < 3 * PER_NODE; i += 6) {
      const guests = await Promise.all(Array.from({ length: 6 }, () => n1.guest()));
      guests.forEach((guest, j) => people.push({ name: `p${i + j}`, guest, conns: [] }));
    }
    const homes: NodeName[] = ['n1', 'n2', 'n3'];
    await Promise.all(people.map((p, i) => connect(p, homes[i % 3]!)));
    const onN3 = people.filter((_, i) => i % 3 === 2);

    // n3's people go back to a survivor the moment their socket drops, with the same token, and join.
    const reconnected = onN3.map((p, i) =>
      p.conns[0]!.client.closed.then(() => (state.n3Alive ? undefined : connect(p, i % 2 ? 'n1' : 'n2'))),
    );

    // Mid-crowd: people are in calls across nodes, waiting, pressing Next, acknowledging ends.
    await sleep(1_200);
    // ... and at least one call crosses from a survivor to n3 (the churn makes one soon if none is on now).
    await until('a call across to n3', () => [n1, n2].some((s) => s.duet.lobby.calls.remoteCalls().some((r) => r.node === 'n3')), 5_000, 5);
    const killedAt = Date.now();
    state.n3Alive = false;
    await n3.kill();

    // n3 is presumed dead when its `alive` key lapses, three beats after its last.
    const deadAt = await lapsed(redis, `${prefix}alive:n3`, 5_000);
    const back = await withTimeout(Promise.all(reconnected), 5_000, 'n3’s people did not all reconnect');
    expect(back.every(Boolean)).toBe(true);

    // The survivors and the returned people keep pressing Next a little longer, then stay in their calls.
    await sleep(Math.max(0, deadAt + 1_000 - Date.now()));
    state.churn = false;

    const live = people.map((p) => p.conns.at(-1)!);
    expect(live.every((c) => c.node !== 'n3' && c.client.isOpen)).toBe(true);
    /** Every live connection that received this call's `matched`. */
    const receivers = (callId: string) => live.filter((c) => c.log.some((s) => s.m.type === 'matched' && s.m.callId === callId));
    const settled = () =>
      live.every((c) => {
        const callId = c.client.callId;
        if (callId === undefined) return false;
        const both = receivers(callId);
        return both.length === 2 && both.every((x) => x.client.callId === callId);
      });
    /** A message as the explanation below shows it: ms from the kill, type, what it says. */
    const shown = ({ at, m }: Stamped) => {
      const what =
        m.type === 'matched' || m.type === 'call_ended' || m.type === 'error'
          ? `(${m.type === 'error' ? m.code : m.callId.slice(0, 6)}${m.type === 'call_ended' ? ` ${m.reason} by ${m.by}, ${m.then}` : ''})`
          : '';
      return `${at - killedAt}:${m.type}${what}`;
    };
    /** Who is not settled, as their clients, their node and the pool see them. */
    const unsettled = async () => {
      const lines: string[] = [];
      for (const c of live) {
        const callId = c.client.callId;
        const both = callId === undefined ? [] : receivers(callId);
        if (callId !== undefined && both.length === 2 && both.every((x) => x.client.callId === callId)) continue;
        const userId = c.person.guest.userId;
        const lobby = servers[c.node as 'n1' | 'n2'].duet.lobby;
        const call = lobby.callOf(userId);
        const partner = call && people.find((p) => p.guest.userId === call.partnerOf(userId));
        const inPool = (await redis.hexists(`${prefix}d`, userId)) === 1;
        lines.push(
          `${c.client.name}: in ${callId?.slice(0, 6) ?? 'no call'} (told: ${both.map((x) => x.client.name).join(', ')}); ` +
            `${c.node} has them ${lobby.statusOf(userId)}${call ? ` in ${call.id.slice(0, 6)} (${call.state}) with ${partner?.name}@${call.nodeOf(call.partnerOf(userId))}` : ''}` +
            `${inPool ? ', in the pool' : ''}; last heard: ${c.log.slice(-12).map(shown).join(' ')}`,
        );
      }
      return `:\n${lines.join('\n')}`;
    };
    // Each person: in a call with a live partner (an even crowd: everyone pairs up).
    await until('everyone in a call with a live partner', settled, 8_000, 50, unsettled);
    // Whatever the server sent before this moment has arrived; on a loaded machine a late end (then
    // a rematch) can still be on its way, so the crowd must settle again, not merely have settled once.
    await Promise.all(live.map((c) => c.client.roundTrip()));
    await until('everyone still in a call with a live partner', settled, 8_000, 50, unsettled);
    const finishedAt = Date.now();

    const all = people.flatMap((p) => p.conns);
    const matchedOf = (c: Conn) =>
      c.log.filter((s): s is Stamped & { m: Extract<ServerMessage, { type: 'matched' }> } => s.m.type === 'matched');
    const endsOf = (c: Conn) =>
      c.log.filter((s): s is Stamped & { m: Extract<ServerMessage, { type: 'call_ended' }> } => s.m.type === 'call_ended');

    // 1. Per connection: matched only when in no call; an end only for the current call.
    for (const c of all) {
      let current: string | undefined;
      for (const { m } of c.log) {
        if (m.type === 'matched') {
          expect(current, `${c.client.name} matched into ${m.callId} while in ${current}`).toBeUndefined();
          current = m.callId;
        } else if (m.type === 'call_ended') {
          expect(m.callId, `${c.client.name} told of the end of a call it was not in`).toBe(current);
          current = undefined;
        }
      }
    }

    // 2. No double matches: each call reaches at most two connections, of two different people, once each.
    const byCall = new Map<string, Conn[]>();
    for (const c of all) for (const s of matchedOf(c)) byCall.set(s.m.callId, [...(byCall.get(s.m.callId) ?? []), c]);
    for (const [callId, cs] of byCall) {
      expect(cs.length, `call ${callId} reached ${cs.map((c) => c.client.name).join(', ')}`).toBeLessThanOrEqual(2);
      if (cs.length === 2) expect(cs[0]!.person, `call ${callId} paired a person with themselves`).not.toBe(cs[1]!.person);
    }

    // 3. Nobody in two calls, across their connections: each call lasts for a person from its
    // `matched` to its end as they heard it (a connection to n3 hears nothing after the kill).
    for (const p of people) {
      const calls = p.conns.flatMap((c) =>
        matchedOf(c).map((s) => {
          const end = endsOf(c).find((e) => e.m.callId === s.m.callId);
          return { callId: s.m.callId, start: s.at, end: end?.at ?? (c.node === 'n3' ? killedAt : finishedAt) };
        }),
      );
      calls.sort((x, y) => x.start - y.start);
      for (let i = 1; i < calls.length; i++) {
        const [prev, cur] = [calls[i - 1]!, calls[i]!];
        expect(
          cur.start,
          `${p.name} matched into ${cur.callId} at +${cur.start - killedAt} ms while in ${prev.callId} until +${prev.end - killedAt} ms (from the kill)`,
        ).toBeGreaterThanOrEqual(prev.end);
      }
    }

    // 4. Calls with a side on n3, as the survivors saw them: decided before n3 was presumed dead,
    // ended by the survivor, or as connection_lost (a Next n3's person pressed before the kill may
    // still have crossed), within the liveness window. A call n3 kept was decided while it lived; one
    // n1 or n2 kept was decided after it was asked for (Redis's clock and this process's are the
    // host's, read in whole ms).
    let cutOff = 0;
    for (const c of all.filter((x) => x.node !== 'n3')) {
      for (const s of matchedOf(c)) {
        if (s.partnerNode !== 'n3') continue;
        expect(
          s.askedAt ?? s.matchedAt!,
          `${c.client.name} matched with someone on n3 after it was presumed dead (the pool asked at +${(s.askedAt ?? NaN) - deadAt} ms, the call started at +${s.matchedAt! - deadAt} ms)`,
        ).toBeLessThanOrEqual(deadAt + 1);
        const end = endsOf(c).find((e) => e.m.callId === s.m.callId);
        expect(end, `${c.client.name}'s call ${s.m.callId} with n3 never ended`).toBeDefined();
        if (end!.at < killedAt) continue;
        cutOff++;
        expect(end!.at - deadAt, `${c.client.name}'s call with n3 ended late`).toBeLessThan(LIVENESS_MS);
        if (end!.m.by === 'you') continue;
        // Pressed before the kill: in the very millisecond of `killedAt` too (the kill follows in the same turn).
        const presses = all.flatMap((x) => (x.node === 'n3' ? x.nexts.filter((n) => n.callId === s.m.callId) : []));
        if (end!.m.reason === 'next' && presses.some((n) => n.at <= killedAt)) continue;
        const said = `${c.client.name}'s call with n3, ended at +${end!.at - killedAt} ms from the kill (Next pressed on n3 at ${presses.map((n) => `+${n.at - killedAt}`).join(', ') || 'no time'})`;
        if (end!.m.reason === 'leave' && end!.m.by === 'partner') {
          // n3 refused the match before the kill (its person was no longer waiting there), and the
          // word came after.
          expect(end!.m.then, said).toBe('waiting');
        } else {
          // By the partner (n3 went silent), or by the server: n3 had presumed this node dead (this
          // process held up past its `alive` key) before the kill, and said so; the word came after.
          expect(end!.m, said).toMatchObject({ reason: 'connection_lost', then: 'waiting' });
          expect(['partner', 'server'], `${said}: by`).toContain(end!.m.by);
        }
        // Requeued, and matched again afterwards.
        // By order of arrival, not by clock: an in-process node can end, requeue and rematch within
        // one millisecond.
        expect(
          c.log.slice(c.log.indexOf(end!) + 1).some((x) => x.m.type === 'matched'),
          `${c.client.name} matched again after losing n3`,
        ).toBe(true);
      }
    }

    expect(cutOff, 'calls across to n3 cut off by the kill').toBeGreaterThan(0);

    // 5. n3's people: reconnected to a survivor and matched there.
    for (const p of onN3) {
      const again = p.conns.at(-1)!;
      expect(again.node).not.toBe('n3');
      expect(matchedOf(again).length, `${p.name} matched after reconnecting`).toBeGreaterThan(0);
    }

    // 6. The survivors hold no call with a side on n3, and nobody waits: every live person is in a call.
    for (const s of [n1, n2]) {
      expect(s.duet.lobby.calls.remoteCalls().filter((r) => r.node === 'n3')).toEqual([]);
      expect(s.duet.lobby.waitingHere()).toEqual([]);
    }
    for (const c of live) expect(servers[c.node as 'n1' | 'n2'].duet.lobby.statusOf(c.person.guest.userId)).toBe('in_call');

    // Not a failure (the partner's call ends within the liveness window, checked above): how often a
    // person of n3 was matched again on a survivor while a survivor was still in a call with their dead connection.
    let overlapped = 0;
    for (const p of onN3) {
      const [old, again] = [p.conns[0]!, p.conns.at(-1)!];
      const lastOld = matchedOf(old).at(-1);
      if (!lastOld || endsOf(old).some((e) => e.m.callId === lastOld.m.callId)) continue;
      const partnerEnd = all.flatMap((c) => (c === old ? [] : endsOf(c).filter((e) => e.m.callId === lastOld.m.callId)))[0];
      const matchedAgain = matchedOf(again)[0];
      if (partnerEnd && matchedAgain && matchedAgain.at < partnerEnd.at) overlapped++;
    }

    expect(unexpectedErrors).toEqual([]);
    expect(all.flatMap((c) => c.client.malformed)).toEqual([]);
    console.info(
      `crowd: ${byCall.size} calls, ${cutOff} cut off by the kill; n3 presumed dead ${deadAt - killedAt} ms after the kill; settled ${finishedAt - killedAt} ms after it; ${overlapped} of n3's people matched again while a survivor still held a call with their dead connection`,
    );
  }, 30_000);
});
