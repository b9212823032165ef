import type { ServerMessage, ServerMessageOf } from '@duet/protocol';
import pino from 'pino';
import { beforeEach, describe, expect, it } from 'vitest';
import { DuetError } from '../errors.js';
import { MemoryPool } from '../matchmaking/memoryPool.js';
import { DEFAULT_POLICY } from '../matchmaking/rules.js';
import { FakeClock } from '../testing/fakeClock.js';
import { isRelayCandidate, relayOnlySdp } from '../relay/sdp.js';
import { Lobby } from './lobby.js';

const CONNECT_TIMEOUT = 15_000;

/**
 * The pool answers a match on a later microtask (matchmaking/pool.ts): lets every answer already
 * given arrive, and the calls they start begin. Not a sleep: no time passes on any clock.
 */
const settled = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * A fake clock that lets the pool's answers arrive at each timer's time: `step` stops at every
 * due time and settles there, as real time would, instead of jumping past the answers.
 */
class SteppingClock extends FakeClock {
  #due: number[] = [];

  override after(ms: number, fn: () => void): () => void {
    this.#due.push(this.now() + Math.max(0, ms));
    return super.after(ms, fn);
  }

  async step(ms: number): Promise<void> {
    const until = this.now() + ms;
    for (;;) {
      this.#due = this.#due.filter((at) => at > this.now());
      const next = Math.min(...this.#due);
      if (next > until) break;
      this.advance(next - this.now());
      await settled();
    }
    this.advance(until - this.now());
    await settled();
  }
}

function setup() {
  const clock = new SteppingClock();
  const inbox = new Map<string, ServerMessage[]>();
  const blocks: Array<[string, string]> = [];
  const reports: string[] = [];
  const queue = new MemoryPool(DEFAULT_POLICY);
  const lobby = new Lobby({
    matchmaker: queue,
    policy: DEFAULT_POLICY,
    clock,
    log: pino({ level: 'silent' }),
    connectTimeoutMs: CONNECT_TIMEOUT,
    send: (userId, m) => inbox.get(userId)?.push(m),
    iceServersFor: () => [{ urls: 'stun:stun.example.test:3478' }],
    safety: {
      block: (a, b) => blocks.push([a, b]),
      report: (r) => reports.push(`${r.reporterId}->${r.reportedId}:${r.reason}`),
    },
  });
  const connect = (...ids: string[]) => {
    for (const id of ids) {
      inbox.set(id, []);
      lobby.connect(id, { rulesAccepted: true, blockedWith: new Set() });
    }
  };
  const sent = <T extends ServerMessage['type']>(id: string, type: T) =>
    (inbox.get(id) ?? []).filter((m): m is ServerMessageOf<T> => m.type === type);
  const last = <T extends ServerMessage['type']>(id: string, type: T) => sent(id, type).at(-1);
  const advance = (ms: number) => clock.step(ms);
  /** What the SDK does with a call_ended someone else caused (`then: 'waiting'`): requeue, naming that call. */
  const ack = (id: string) => lobby.requeue(id, last(id, 'call_ended')!.callId);
  return { clock, lobby, queue, inbox, blocks, reports, connect, sent, last, settled, advance, ack };
}

type Setup = ReturnType<typeof setup>;

function expectCode(fn: () => void, code: string) {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DuetError);
    expect((err as DuetError).code).toBe(code);
    return;
  }
  throw new Error(`expected DuetError ${code}`);
}

describe('Lobby', () => {
  let t: Setup;
  beforeEach(() => {
    t = setup();
  });

  it('pairs two waiting people at once and tells one of them to offer', async () => {
    t.connect('a', 'b', 'c');
    t.lobby.join('a');
    await t.settled();
    // Alone, with no matches yet to learn from: the estimate is honestly unknown.
    expect(t.last('a', 'queued')).toEqual({ type: 'queued', waiting: 1, estimatedWaitMs: null });
    t.lobby.join('b');
    await t.settled();
    const ma = t.last('a', 'matched')!;
    const mb = t.last('b', 'matched')!;
    expect(ma.callId).toBe(mb.callId);
    expect([ma.role, mb.role].sort()).toEqual(['answerer', 'offerer']);
    expect(ma.iceServers).toEqual([{ urls: 'stun:stun.example.test:3478' }]);
    t.lobby.join('c');
    await t.settled();
    expect(t.lobby.statusOf('c')).toBe('waiting');
    expect(t.sent('c', 'matched')).toHaveLength(0);
  });

  it('refuses to queue someone who has not accepted the rules', async () => {
    t.inbox.set('x', []);
    t.lobby.connect('x', { rulesAccepted: false, blockedWith: new Set() });
    expectCode(() => t.lobby.join('x'), 'rules_not_accepted');
    t.lobby.rulesAccepted('x');
    t.lobby.join('x');
    await t.settled();
    expect(t.lobby.statusOf('x')).toBe('waiting');
  });

  it('keeps each interest once, however often it was sent', async () => {
    t.connect('a');
    t.lobby.join('a', { interests: ['music', 'chess', 'music', 'music'] });
    await t.settled();
    expect((await t.queue.get('a'))?.interests).toEqual(['music', 'chess']);
  });

  it('joining twice keeps one queue entry', async () => {
    t.connect('a');
    t.lobby.join('a', { interests: ['chess'] });
    await t.settled();
    t.lobby.join('a', { interests: ['music'] });
    await t.settled();
    expect(t.queue.size).toBe(1);
  });

  it('walks a call through matched -> connecting -> connected with timestamps', async () => {
    t.connect('a', 'b');
    t.lobby.join('a');
    await t.settled();
    await t.advance(1_000);
    t.lobby.join('b');
    await t.settled();
    const { callId } = t.last('a', 'matched')!;
    const call = t.lobby.callOf('a')!;
    expect(call.state).toBe('matched');
    await t.advance(100);
    t.lobby.signal('a', { type: 'signal', callId, description: { type: 'offer', sdp: 'v=0' } });
    expect(call.state).toBe('connecting');
    expect(t.last('b', 'signal')).toEqual({ type: 'signal', callId, description: { type: 'offer', sdp: 'v=0' } });
    await t.advance(200);
    t.lobby.peerState('a', callId, 'connected');
    expect(call.state).toBe('connecting'); // both sides must report
    t.lobby.peerState('b', callId, 'connected');
    expect(call.state).toBe('connected');
    expect(call.at.connected! - call.at.matched).toBe(300);
    expect(t.last('a', 'call_connected')).toEqual({ type: 'call_connected', callId });
    // Connected calls do not time out.
    await t.advance(CONNECT_TIMEOUT * 2);
    expect(call.isOver).toBe(false);
  });

  it('ends a call that does not connect in time as ice_failed and requeues both', async () => {
    t.connect('a', 'b');
    t.lobby.join('a');
    await t.settled();
    t.lobby.join('b');
    await t.settled();
    const { callId } = t.last('a', 'matched')!;
    await t.advance(CONNECT_TIMEOUT - 1);
    expect(t.sent('a', 'call_ended')).toHaveLength(0);
    await t.advance(1);
    for (const id of ['a', 'b']) {
      expect(t.last(id, 'call_ended')).toEqual({ type: 'call_ended', callId, reason: 'ice_failed', by: 'server', then: 'waiting' });
      t.ack(id);
      expect(t.lobby.statusOf(id)).toBe('waiting');
    }
    await t.settled();
    // The pair that just failed is not put straight back together.
    expect(t.lobby.activeCalls).toBe(0);
  });

  it('a browser reporting ICE failure ends the call at once', async () => {
    t.connect('a', 'b');
    t.lobby.join('a');
    await t.settled();
    t.lobby.join('b');
    await t.settled();
    const { callId } = t.last('a', 'matched')!;
    t.lobby.peerState('b', callId, 'failed');
    await t.settled();
    expect(t.last('a', 'call_ended')?.reason).toBe('ice_failed');
  });

  it('Next with a third person waiting: the skipper meets them, the partner waits', async () => {
    t.connect('a', 'b', 'c');
    t.lobby.join('a');
    await t.settled();
    t.lobby.join('b');
    await t.settled();
    const first = t.last('a', 'matched')!.callId;
    t.lobby.join('c');
    await t.settled();
    t.lobby.next('a');
    await t.settled();
    expect(t.last('a', 'call_ended')).toEqual({ type: 'call_ended', callId: first, reason: 'next', by: 'you', then: 'waiting' });
    expect(t.last('b', 'call_ended')).toEqual({ type: 'call_ended', callId: first, reason: 'next', by: 'partner', then: 'waiting' });
    const second = t.last('a', 'matched')!.callId;
    expect(second).not.toBe(first);
    expect(t.last('c', 'matched')!.callId).toBe(second);
    t.ack('b');
    expect(t.lobby.statusOf('b')).toBe('waiting');
    expect(t.sent('b', 'matched')).toHaveLength(1);
  });

  it('Next with nobody else around does not put the same two back together', async () => {
    t.connect('a', 'b');
    t.lobby.join('a');
    await t.settled();
    t.lobby.join('b');
    await t.settled();
    t.lobby.next('b');
    await t.settled();
    t.ack('a');
    await t.settled();
    expect(t.lobby.statusOf('a')).toBe('waiting');
    expect(t.lobby.statusOf('b')).toBe('waiting');
    expect(t.lobby.activeCalls).toBe(0);
    // ...but a newcomer is matched at once, with the one who pressed Next (requeued first).
    t.connect('c');
    t.lobby.join('c');
    await t.settled();
    expect(t.lobby.callOf('c')?.partnerOf('c')).toBe('b');
  });

  it('Stop ends the call for both; the partner goes back to waiting, the leaver is idle', async () => {
    t.connect('a', 'b');
    t.lobby.join('a');
    await t.settled();
    t.lobby.join('b');
    await t.settled();
    const { callId } = t.last('a', 'matched')!;
    t.lobby.leave('a');
    await t.settled();
    expect(t.last('a', 'call_ended')).toEqual({ type: 'call_ended', callId, reason: 'leave', by: 'you', then: 'idle' });
    expect(t.last('b', 'call_ended')).toEqual({ type: 'call_ended', callId, reason: 'leave', by: 'partner', then: 'waiting' });
    expect(t.lobby.statusOf('a')).toBe('idle');
    expect(await t.queue.has('a')).toBe(false);
    expect(await t.queue.has('b')).toBe(false); // until b's client has seen the end
    t.ack('b');
    expect(await t.queue.has('b')).toBe(true);
  });

  it('Stop while waiting leaves the queue', async () => {
    t.connect('a');
    t.lobby.join('a');
    await t.settled();
    t.lobby.leave('a');
    await t.settled();
    expect(t.queue.size).toBe(0);
    expect(t.last('a', 'idle')).toEqual({ type: 'idle' });
  });

  it('a disconnect ends the call as connection_lost and removes the person everywhere', async () => {
    t.connect('a', 'b', 'c');
    t.lobby.join('a');
    await t.settled();
    t.lobby.join('b');
    await t.settled();
    t.lobby.join('c');
    await t.settled();
    t.lobby.disconnect('a', 'connection_lost');
    await t.settled();
    expect(t.last('b', 'call_ended')).toMatchObject({ reason: 'connection_lost', by: 'partner', then: 'waiting' });
    expect(t.lobby.isOnline('a')).toBe(false);
    t.ack('b');
    await t.settled();
    // b is requeued and meets c at once.
    expect(t.lobby.callOf('b')?.partnerOf('b')).toBe('c');
  });

  it('only the current partner can be signalled', async () => {
    t.connect('a', 'b', 'c', 'd');
    t.lobby.join('a');
    await t.settled();
    t.lobby.join('b');
    await t.settled();
    t.lobby.join('c');
    await t.settled();
    t.lobby.join('d');
    await t.settled();
    const ab = t.last('a', 'matched')!.callId;
    expectCode(() => t.lobby.signal('c', { type: 'signal', callId: ab, candidate: null }), 'not_in_call');
    expectCode(() => t.lobby.chat('c', ab, 'hi'), 'not_in_call');
    expect(t.sent('a', 'signal')).toHaveLength(0);
  });

  // Chat's rate limit is kept per person by the hub (safety/limits.ts), tested in tests/integration/limits.test.ts.
  it('relays chat with a server timestamp', async () => {
    t.connect('a', 'b');
    t.lobby.join('a');
    await t.settled();
    t.lobby.join('b');
    await t.settled();
    const { callId } = t.last('a', 'matched')!;
    t.lobby.chat('a', callId, 'hi');
    expect(t.last('b', 'chat')).toEqual({ type: 'chat', callId, from: 'partner', text: 'hi', at: t.clock.now() });
    expect(t.last('a', 'chat')).toMatchObject({ from: 'you', text: 'hi' });
  });

  it('block ends the call and the two are never matched again, in either direction', async () => {
    t.connect('a', 'b');
    t.lobby.join('a');
    await t.settled();
    t.lobby.join('b');
    await t.settled();
    const { callId } = t.last('a', 'matched')!;
    t.lobby.block('b', callId);
    await t.settled();
    expect(t.blocks).toEqual([['b', 'a']]);
    expect(t.last('a', 'call_ended')).toMatchObject({ reason: 'blocked', by: 'partner', then: 'waiting' });
    expect(t.last('b', 'call_ended')).toMatchObject({ reason: 'blocked', by: 'you', then: 'waiting' });
    t.ack('a');
    // Give each of them another call, so "last partner" no longer keeps them apart; the block must.
    t.connect('c', 'd');
    t.lobby.join('c');
    await t.settled();
    t.lobby.join('d');
    await t.settled();
    expect(t.lobby.callOf('b')?.partnerOf('b')).toBe('c');
    expect(t.lobby.callOf('a')?.partnerOf('a')).toBe('d');
    t.lobby.leave('c');
    await t.settled();
    t.lobby.leave('d');
    await t.settled();
    t.ack('a');
    t.ack('b');
    await t.settled();
    expect(t.lobby.statusOf('a')).toBe('waiting');
    expect(t.lobby.statusOf('b')).toBe('waiting');
    expect(t.lobby.activeCalls).toBe(0);
  });

  it('report ends the call, records the report and blocks', async () => {
    t.connect('a', 'b');
    t.lobby.join('a');
    await t.settled();
    t.lobby.join('b');
    await t.settled();
    const { callId } = t.last('a', 'matched')!;
    t.lobby.report('a', { type: 'report', callId, reason: 'harassment' });
    await t.settled();
    expect(t.reports).toEqual(['a->b:harassment']);
    expect(t.blocks).toEqual([['a', 'b']]);
    expect(t.last('b', 'call_ended')).toMatchObject({ reason: 'reported', by: 'partner' });
  });

  it('shutdown tells everyone in a call server_shutdown and matches nobody after', async () => {
    t.connect('a', 'b', 'c');
    t.lobby.join('a');
    await t.settled();
    t.lobby.join('b');
    await t.settled();
    t.lobby.join('c');
    await t.settled();
    const { callId } = t.last('a', 'matched')!;
    t.lobby.shutdown();
    await t.settled();
    for (const id of ['a', 'b']) {
      expect(t.last(id, 'call_ended')).toEqual({ type: 'call_ended', callId, reason: 'server_shutdown', by: 'server', then: 'idle' });
    }
    expect(t.queue.size).toBe(0);
  });

  it('pushes presence at most once per interval', async () => {
    t.connect('a', 'b', 'c');
    t.lobby.join('a');
    await t.settled();
    expect(t.sent('b', 'presence')).toHaveLength(0);
    await t.advance(1_000);
    expect(t.sent('b', 'presence')).toEqual([{ type: 'presence', online: 3, waiting: 1, topInterests: [] }]);
    await t.advance(5_000);
    expect(t.sent('b', 'presence')).toHaveLength(1); // nothing changed, nothing sent
  });
});

describe('Moves name their call; nobody is rematched before their client has seen the end', () => {
  /** a and b in a call, c waiting: returns the call's id. */
  async function inCall(t: Setup, ...waiting: string[]): Promise<string> {
    t.connect('a', 'b', ...waiting);
    t.lobby.join('a');
    await t.settled();
    t.lobby.join('b');
    await t.settled();
    for (const id of waiting) t.lobby.join(id);
    await t.settled();
    return t.last('a', 'matched')!.callId;
  }

  it('a Next naming the old call is refused as stale_call and leaves the new call alone', async () => {
    const t = setup();
    const old = await inCall(t, 'c');
    t.lobby.next('a', old);
    await t.settled();
    const fresh = t.lobby.callOf('a')!;
    expect(fresh.partnerOf('a')).toBe('c');
    // The second tap of a double Next, or a Next sent before the first one's call_ended arrived.
    expectCode(() => t.lobby.next('a', old), 'stale_call');
    expectCode(() => t.lobby.leave('a', old), 'stale_call');
    expectCode(() => t.lobby.next('b', old), 'stale_call'); // b's own Next crossed a's: b stays held
    await t.settled();
    expect(t.lobby.callOf('a')).toBe(fresh);
    expect(fresh.isOver).toBe(false);
    expect(t.sent('c', 'call_ended')).toHaveLength(0);
    expect(t.lobby.statusOf('b')).toBe('idle');
  });

  it('a Next or Stop naming no call does not end a call the person may not have seen yet', async () => {
    const t = setup();
    const callId = await inCall(t);
    // a pressed Next (or Stop) while waiting, as the server matched a with b: matched is still on its way.
    expectCode(() => t.lobby.next('a', null), 'stale_call');
    expectCode(() => t.lobby.leave('a', null), 'stale_call');
    await t.settled();
    expect(t.lobby.callOf('a')?.id).toBe(callId);
    expect(t.lobby.callOf('b')?.id).toBe(callId);
    expect(t.sent('b', 'call_ended')).toHaveLength(0);
    // Once it names the call, it acts.
    t.lobby.leave('a', callId);
    expect(t.last('b', 'call_ended')).toMatchObject({ callId, reason: 'leave', by: 'partner', then: 'waiting' });
  });

  it('the partner left behind by Next is queued again only once their client acknowledges the end', async () => {
    const t = setup();
    const callId = await inCall(t, 'c');
    t.lobby.next('a', callId);
    await t.settled();
    expect(t.lobby.callOf('a')?.partnerOf('a')).toBe('c'); // the presser is queued (and matched) at once
    t.connect('d');
    t.lobby.join('d');
    await t.settled();
    expect(t.last('b', 'call_ended')).toEqual({ type: 'call_ended', callId, reason: 'next', by: 'partner', then: 'waiting' });
    expect(t.lobby.statusOf('b')).toBe('idle');
    expect(await t.queue.has('b')).toBe(false);
    expect(t.lobby.statusOf('d')).toBe('waiting'); // d waits: b is not matchable yet
    expectCode(() => t.lobby.requeue('b', 'another-call'), 'stale_call');
    t.lobby.requeue('b', callId);
    await t.settled();
    expect(t.lobby.callOf('b')?.partnerOf('b')).toBe('d');
    expectCode(() => t.lobby.requeue('b', callId), 'stale_call'); // once only
  });

  it('a partner who pressed Stop before acknowledging is never rematched', async () => {
    const t = setup();
    const callId = await inCall(t);
    t.lobby.next('a', callId);
    await t.settled();
    // b's Stop was meant for the call that a's Next just ended: it still stops b.
    t.lobby.leave('b', callId);
    expect(t.last('b', 'idle')).toEqual({ type: 'idle' });
    expectCode(() => t.lobby.requeue('b', callId), 'stale_call');
    t.connect('c');
    t.lobby.join('c');
    await t.settled();
    expect(t.lobby.callOf('c')?.partnerOf('c')).toBe('a');
    await t.advance(DEFAULT_POLICY.relaxRecentAfterMs);
    expect(t.lobby.statusOf('b')).toBe('idle');
    expect(t.sent('b', 'matched')).toHaveLength(1);
  });

  it('a client that never acknowledges (a crashed tab) stays out of the queue', async () => {
    const t = setup();
    const callId = await inCall(t);
    t.lobby.leave('a', callId);
    t.connect('c');
    t.lobby.join('c');
    await t.advance(60_000);
    expect(t.lobby.statusOf('b')).toBe('idle');
    expect(t.lobby.statusOf('c')).toBe('waiting');
    expect(t.sent('b', 'matched')).toHaveLength(1);
  });
});

describe('Lobby invariants under random operations', () => {
  it('nobody is ever in two calls, queued while in a call, or told of a second partner', async () => {
    // Small seeded PRNG (mulberry32) so failures reproduce.
    let seed = 0x5eed;
    const rand = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
      return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
    };
    const t = setup();
    const ids = Array.from({ length: 16 }, (_, i) => `u${i}`);
    const pick = () => ids[Math.floor(rand() * ids.length)]!;
    const online = new Set<string>();
    // Per user, the call they were last told they are in (matched) and not yet told ended.
    const current = new Map<string, string | undefined>();
    const seen = new Map<string, number>();

    for (let step = 0; step < 5_000; step++) {
      const u = pick();
      const r = rand();
      try {
        if (!online.has(u)) {
          t.inbox.set(u, t.inbox.get(u) ?? []);
          // Back within the grace window of a held call: it is resumed; otherwise a fresh start.
          const { resumedCallId } = t.lobby.connect(u, { rulesAccepted: true, blockedWith: new Set() });
          if (resumedCallId === undefined) current.set(u, undefined);
          else expect(resumedCallId).toBe(current.get(u));
          seen.set(u, t.inbox.get(u)!.length);
          online.add(u);
        } else if (r < 0.3) t.lobby.join(u);
        else if (r < 0.45) t.lobby.next(u, rand() < 0.2 ? null : (t.lobby.callOf(u)?.id ?? null));
        else if (r < 0.55) t.lobby.leave(u, rand() < 0.2 ? null : (t.lobby.callOf(u)?.id ?? null));
        else if (r < 0.62) {
          t.lobby.disconnect(u, 'connection_lost');
          online.delete(u);
          seen.set(u, t.inbox.get(u)!.length); // a gone connection is told nothing more
        } else if (r < 0.7) {
          // The client's answer to a call_ended (sometimes late, stale, or never).
          const ended = t.last(u, 'call_ended');
          if (ended) t.lobby.requeue(u, ended.callId);
        } else if (r < 0.8) {
          const call = t.lobby.callOf(u);
          if (call) {
            t.lobby.peerState(u, call.id, 'connected');
            if (rand() < 0.7) t.lobby.peerState(call.partnerOf(u), call.id, 'connected');
          }
        } else if (r < 0.805) {
          const call = t.lobby.callOf(u);
          if (call) t.lobby.block(u, call.id);
        } else await t.advance(Math.floor(rand() * 20_000));
      } catch (err) {
        if (!(err instanceof DuetError)) throw err;
      }
      await t.settled();

      // Replay each user's messages: matched and call_ended must alternate, one call at a time.
      for (const id of ids) {
        const box = t.inbox.get(id) ?? [];
        for (let i = seen.get(id) ?? 0; i < box.length; i++) {
          const m = box[i]!;
          if (m.type === 'matched') {
            expect(current.get(id), `${id} matched while in a call (step ${step})`).toBeUndefined();
            current.set(id, m.callId);
          } else if (m.type === 'call_ended') {
            expect(m.callId).toBe(current.get(id));
            current.set(id, undefined);
          }
        }
        seen.set(id, box.length);
      }
      // Messages sent to someone whose connection is gone are never seen.
      for (const id of ids) if (!online.has(id)) seen.set(id, t.inbox.get(id)?.length ?? 0);
      for (const id of online) {
        const call = t.lobby.callOf(id);
        const status = t.lobby.statusOf(id);
        expect(status === 'in_call').toBe(call !== undefined);
        expect(await t.queue.has(id)).toBe(status === 'waiting');
        if (call) {
          const partner = call.partnerOf(id);
          expect(t.lobby.callOf(partner)).toBe(call);
          expect(current.get(id)).toBe(call.id);
        }
      }
      for (const id of ids) if (!online.has(id)) expect(await t.queue.has(id)).toBe(false);
    }
    expect(t.lobby.activeCalls).toBeLessThanOrEqual(8);
    // The run really exercised matching, connecting and ending, not just rejections.
    const all = [...t.inbox.values()].flat();
    expect(all.filter((m) => m.type === 'matched').length).toBeGreaterThan(250);
    expect(all.filter((m) => m.type === 'call_connected').length).toBeGreaterThan(25);
    expect(new Set(all.flatMap((m) => (m.type === 'call_ended' ? [m.reason] : [])))).toEqual(
      new Set(['next', 'leave', 'connection_lost', 'blocked', 'ice_failed']),
    );
  });
});

describe('Lobby matching criteria and the empty room', () => {
  it('widens on time, tells the person, and then matches across interests and regions', async () => {
    const t = setup();
    t.connect('chess', 'music');
    t.lobby.join('chess', { interests: ['chess'], region: 'eu' });
    await t.settled();
    t.lobby.join('music', { interests: ['music'], region: 'us' });
    await t.settled();
    expect(t.lobby.activeCalls).toBe(0);
    await t.advance(DEFAULT_POLICY.interestsRequiredMs);
    expect(t.last('chess', 'widened')).toEqual({ type: 'widened', stage: 'interests', interests: ['chess'] });
    expect(t.lobby.activeCalls).toBe(0); // regions still differ
    await t.advance(DEFAULT_POLICY.regionRequiredMs - DEFAULT_POLICY.interestsRequiredMs);
    expect(t.last('chess', 'widened')).toEqual({ type: 'widened', stage: 'region' });
    expect(t.lobby.callOf('chess')?.partnerOf('chess')).toBe('music');
  });

  it('matches people who share an interest at once, ahead of someone who waited longer', async () => {
    const t = setup();
    t.connect('old', 'a', 'b');
    t.lobby.join('old');
    await t.settled();
    await t.advance(5_000);
    t.lobby.join('a', { interests: ['chess'] });
    await t.settled();
    expect(t.lobby.activeCalls).toBe(0); // a insists on chess for now
    t.lobby.join('b', { interests: ['go', 'chess'] });
    await t.settled();
    expect(t.lobby.callOf('a')?.partnerOf('a')).toBe('b');
    expect(t.lobby.statusOf('old')).toBe('waiting');
  });

  it('keeps modes and languages apart and refuses a mode the server does not offer', async () => {
    const t = setup();
    t.connect('en', 'fr');
    t.lobby.join('en', { language: 'en' });
    await t.settled();
    t.lobby.join('fr', { language: 'fr' });
    await t.settled();
    await t.advance(120_000);
    expect(t.lobby.activeCalls).toBe(0);
    expectCode(() => t.lobby.join('en', { mode: 'casino' }), 'invalid_message');
  });

  it('in a tiny pool, lets two people who skipped each other meet again after a wait, but never a blocked pair', async () => {
    const t = setup();
    t.connect('a', 'b');
    t.lobby.join('a');
    await t.settled();
    t.lobby.join('b');
    await t.settled();
    t.lobby.next('a');
    await t.settled();
    t.ack('b');
    await t.settled();
    expect(t.lobby.activeCalls).toBe(0);
    await t.advance(DEFAULT_POLICY.relaxRecentAfterMs);
    expect(t.lobby.callOf('a')?.partnerOf('a')).toBe('b');
    const { callId } = t.last('a', 'matched')!;
    t.lobby.block('b', callId);
    await t.settled();
    await t.advance(10 * DEFAULT_POLICY.relaxRecentAfterMs);
    expect(t.lobby.activeCalls).toBe(0);
  });

  it('lets two people who skipped each other meet again once the pool turns tiny, after their wait', async () => {
    const t = setup();
    t.connect('a', 'b', 'c', 'd');
    for (const [x, y] of ['ac', 'ad', 'bc', 'bd']) t.lobby.blockPair(x!, y!);
    for (const id of ['a', 'b', 'c', 'd']) {
      t.lobby.join(id);
      await t.settled();
    }
    t.lobby.next('a');
    t.lobby.next('c');
    await t.settled();
    t.ack('b');
    t.ack('d');
    await t.settled();
    // Four waiting through every widening step: not a tiny pool, and nobody meets a recent partner again.
    await t.advance(Math.max(DEFAULT_POLICY.relaxRecentAfterMs, DEFAULT_POLICY.regionRequiredMs));
    expect(t.lobby.activeCalls).toBe(0);
    // c and d go: a and b are all the pool holds, and long past their wait.
    t.lobby.leave('c');
    t.lobby.leave('d');
    await t.advance(DEFAULT_POLICY.relaxRecentAfterMs);
    expect(t.lobby.callOf('a')?.partnerOf('a')).toBe('b');
  });

  it('estimates the wait honestly: unknown with little to go on, the median of recent waits otherwise', async () => {
    const t = setup();
    t.connect('a', 'b', 'c', 'd', 'e');
    t.lobby.join('a');
    await t.settled();
    expect(t.last('a', 'queued')?.estimatedWaitMs).toBeNull();
    await t.advance(4_000);
    t.lobby.join('b'); // waits: a 4 s, b 0 s — two data points are not enough
    await t.settled();
    t.lobby.join('c');
    await t.settled();
    expect(t.last('c', 'queued')?.estimatedWaitMs).toBeNull();
    await t.advance(6_000);
    t.lobby.join('d'); // waits: c 6 s, d 0 s
    await t.settled();
    t.lobby.join('e');
    await t.settled();
    expect(t.last('e', 'queued')?.estimatedWaitMs).toBe(4_000); // median of 0, 0, 4, 6 s
    await t.advance(11 * 60_000); // old matches say nothing about now
    t.lobby.leave('e');
    await t.settled();
    t.lobby.join('e');
    await t.settled();
    expect(t.last('e', 'queued')?.estimatedWaitMs).toBeNull();
  });

  it('pushes the most common interests among people waiting', async () => {
    const t = setup();
    t.connect('a', 'b', 'c');
    t.lobby.join('a', { interests: ['music', 'art'] });
    await t.settled();
    t.lobby.join('b', { interests: ['music'], language: 'fr' });
    await t.settled();
    await t.advance(1_000);
    expect(t.last('c', 'presence')?.topInterests).toEqual([
      { tag: 'music', count: 2 },
      { tag: 'art', count: 1 },
    ]);
  });
});

describe('IP privacy', () => {
  it('refuses privacy without a relay, and makes calls relay-only when either person asks', () => {
    const t = setup();
    t.connect('a', 'b');
    expectCode(() => t.lobby.join('a', { privacy: true }), 'relay_unavailable');
  });

  it('strips every non-relay candidate from a relay-only call, from SDP and trickle alike', () => {
    const sdp = [
      'v=0',
      'a=candidate:1 1 udp 2122260223 192.168.1.20 50000 typ host',
      'a=candidate:2 1 udp 1686052607 198.51.100.7 50001 typ srflx raddr 192.168.1.20 rport 50000',
      'a=candidate:3 1 udp 41885439 203.0.113.10 49170 typ relay raddr 198.51.100.7 rport 50001',
      'a=end-of-candidates',
    ].join('\r\n');
    expect(relayOnlySdp(sdp).split('\r\n')).toEqual([
      'v=0',
      'a=candidate:3 1 udp 41885439 203.0.113.10 49170 typ relay raddr 198.51.100.7 rport 50001',
      'a=end-of-candidates',
    ]);
    expect(isRelayCandidate('candidate:1 1 udp 2122260223 192.168.1.20 50000 typ host')).toBe(false);
    expect(isRelayCandidate('candidate:3 1 udp 41885439 203.0.113.10 49170 typ relay raddr 0.0.0.0 rport 0')).toBe(true);
    // A modified client cannot sneak a host address through with a decoy or with bare line feeds.
    expect(isRelayCandidate('candidate:1 1 udp 2122260223 192.168.1.20 50000 typ host generation 0 ufrag typ relay')).toBe(false);
    expect(relayOnlySdp('v=0\na=candidate:1 1 udp 2122260223 192.168.1.20 50000 typ host\na=mid:0')).toBe('v=0\r\na=mid:0');
  });
});
