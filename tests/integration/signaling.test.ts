import { LIMITS } from '@duet/protocol';
import { describe, expect, it } from 'vitest';
import { connectCall, matchPair, useTestServer, type TestClient } from './harness.js';

const server = useTestServer({ env: { RECONNECT_GRACE_MS: '1000' } });

/** Proves, by a round trip on each client, that none of them has been matched. */
async function expectNotMatched(...clients: TestClient[]): Promise<void> {
  for (const c of clients) {
    await c.roundTrip();
    expect(c.pending('matched'), `${c.name} was matched`).toEqual([]);
  }
}

describe('matching', () => {
  it('puts two people in one call, one offerer and one answerer, and queues a third', async () => {
    const s = server();
    const a = await s.client('A');
    const b = await s.client('B');
    a.send({ type: 'join' });
    expect(await a.next('queued')).toMatchObject({ type: 'queued', waiting: 1 });
    b.send({ type: 'join' });
    const [ma, mb] = await Promise.all([a.next('matched'), b.next('matched')]);
    expect(ma.callId).toBe(mb.callId);
    expect([ma.role, mb.role].sort()).toEqual(['answerer', 'offerer']);
    for (const m of [ma, mb]) {
      expect(m.connectTimeoutMs).toBe(s.config.connectTimeoutMs);
      expect(Array.isArray(m.iceServers)).toBe(true);
    }

    const c = await s.client('C');
    c.send({ type: 'join' });
    expect(await c.next('queued')).toMatchObject({ type: 'queued', waiting: 1 });
    await expectNotMatched(c);

    // Joining again while in a call is out of turn and changes nothing.
    a.send({ type: 'join' });
    expect(await a.nextError('out_of_turn')).toMatchObject({ ref: 'join' });
    await expectNotMatched(a, b, c);
  });

  it('keeps one queue entry per person when someone joins twice', async () => {
    const s = server();
    const a = await s.client('A');
    a.send({ type: 'join' });
    a.send({ type: 'join' });
    expect(await a.next('queued')).toMatchObject({ type: 'queued', waiting: 1 });
    expect(await a.next('queued')).toMatchObject({ type: 'queued', waiting: 1 });

    const b = await s.client('B');
    b.send({ type: 'join' });
    const [ma, mb] = await Promise.all([a.next('matched'), b.next('matched')]);
    expect(ma.callId).toBe(mb.callId);

    // A stale second entry for A would pair C with A, who is already in a call.
    const c = await s.client('C');
    c.send({ type: 'join' });
    await c.next('queued');
    await expectNotMatched(a, c);
  });

  it('relays descriptions and candidates to the partner unchanged', async () => {
    const s = server();
    const { offerer, answerer, callId } = await matchPair(await s.client('A'), await s.client('B'));

    const offer = { type: 'signal', callId, description: { type: 'offer', sdp: 'v=0\r\no=- 1 2 IN IP4 192.0.2.1\r\n' } } as const;
    offerer.send(offer);
    expect(await answerer.next('signal')).toEqual(offer);

    const answer = { type: 'signal', callId, description: { type: 'answer', sdp: 'v=0\r\nanswer\r\n' } } as const;
    answerer.send(answer);
    expect(await offerer.next('signal')).toEqual(answer);

    const candidate = {
      type: 'signal',
      callId,
      candidate: {
        candidate: 'candidate:1 1 udp 2122260223 192.0.2.1 54400 typ host',
        sdpMid: '0',
        sdpMLineIndex: 0,
        usernameFragment: 'abcd',
      },
    } as const;
    offerer.send(candidate);
    expect(await answerer.next('signal')).toEqual(candidate);

    // End of candidates is a null candidate; it must survive the relay as null.
    offerer.send({ type: 'signal', callId, candidate: null });
    expect(await answerer.next('signal')).toEqual({ type: 'signal', callId, candidate: null });

    // Nothing echoes back to the sender.
    await offerer.roundTrip();
    expect(offerer.all('signal')).toEqual([answer]);
  });

  it('refuses a signal for another call with not_in_call, and the partner receives nothing', async () => {
    const s = server();
    const { offerer, answerer, callId } = await matchPair(await s.client('A'), await s.client('B'));
    offerer.send({ type: 'signal', callId: `${callId}-other`, description: { type: 'offer', sdp: 'v=0' } });
    expect(await offerer.nextError('not_in_call')).toMatchObject({ ref: 'signal' });

    // Someone not in any call cannot signal into this one either.
    const c = await s.client('C');
    c.send({ type: 'signal', callId, description: { type: 'offer', sdp: 'v=0' } });
    expect(await c.nextError('not_in_call')).toMatchObject({ ref: 'signal' });

    await answerer.roundTrip();
    expect(answerer.all('signal')).toEqual([]);
  });

  it('announces call_connected to both only once both report connected', async () => {
    const s = server();
    const { offerer, answerer, callId } = await matchPair(await s.client('A'), await s.client('B'));
    offerer.send({ type: 'peer_state', callId, state: 'connected' });
    await offerer.roundTrip();
    await answerer.roundTrip();
    expect([...offerer.all('call_connected'), ...answerer.all('call_connected')]).toEqual([]);

    answerer.send({ type: 'peer_state', callId, state: 'connected' });
    for (const c of [offerer, answerer]) expect(await c.next('call_connected')).toEqual({ type: 'call_connected', callId });
  });

  it('ends a call at once as ice_failed when a peer reports failed', async () => {
    // This server's connect timeout is the 15 s default, so an ice_failed here is not the timer.
    const s = server();
    const { offerer, answerer, callId } = await matchPair(await s.client('A'), await s.client('B'));
    answerer.send({ type: 'peer_state', callId, state: 'failed' });
    for (const c of [offerer, answerer]) {
      expect(await c.next('call_ended')).toEqual({ type: 'call_ended', callId, reason: 'ice_failed', by: 'server', then: 'waiting' });
      await c.next('queued');
    }
    // The two who just failed are not paired again with each other.
    await expectNotMatched(offerer, answerer);
  });
});

describe('chat', () => {
  it('relays trimmed text to the partner and echoes it to the sender', async () => {
    const s = server();
    const { offerer: a, answerer: b, callId } = await matchPair(await s.client('A'), await s.client('B'));
    a.send({ type: 'chat', callId, text: '  hello there  ' });
    const [toB, toA] = await Promise.all([b.next('chat'), a.next('chat')]);
    expect(toB).toMatchObject({ callId, from: 'partner', text: 'hello there' });
    expect(toA).toMatchObject({ callId, from: 'you', text: 'hello there' });
    expect(toA.at).toBe(toB.at);
  });

  it('refuses over-long chat and chat for another call, relaying nothing', async () => {
    const s = server();
    const { offerer: a, answerer: b, callId } = await matchPair(await s.client('A'), await s.client('B'));
    a.send({ type: 'chat', callId, text: 'x'.repeat(LIMITS.maxChatChars + 1) });
    expect(await a.nextError('invalid_message')).toMatchObject({ ref: 'chat' });
    a.send({ type: 'chat', callId: 'not-this-call', text: 'hi' });
    expect(await a.nextError('not_in_call')).toMatchObject({ ref: 'chat' });

    await b.roundTrip();
    await a.roundTrip();
    expect([...a.all('chat'), ...b.all('chat')]).toEqual([]);
  });

  it('rate-limits chat, relaying only what it accepts', async () => {
    const s = server();
    const { offerer: a, answerer: b, callId } = await matchPair(await s.client('A'), await s.client('B'));
    const sent = 20;
    for (let i = 0; i < sent; i++) a.send({ type: 'chat', callId, text: `message ${i}` });
    expect(await a.nextError('rate_limited')).toMatchObject({ ref: 'chat' });

    await a.roundTrip();
    await b.roundTrip();
    const relayed = b.all('chat').map((m) => m.text);
    expect(a.all('chat').map((m) => m.text)).toEqual(relayed);
    expect(relayed.length).toBeGreaterThan(0);
    expect(relayed.length).toBeLessThan(sent);
    // Accepted messages are the first ones, in order.
    expect(relayed).toEqual(relayed.map((_t, i) => `message ${i}`));
  });
});

describe('next', () => {
  it.each(['offerer', 'answerer'] as const)(
    'requeues the %s who pressed Next first, so they meet the person waiting; the partner waits',
    async (presserRole) => {
      const s = server();
      const pair = await matchPair(await s.client('A'), await s.client('B'));
      const presser = pair[presserRole];
      const partner = presserRole === 'offerer' ? pair.answerer : pair.offerer;
      const c = await s.client('C');
      c.send({ type: 'join' });
      await c.next('queued');

      presser.send({ type: 'next' });
      const base = { type: 'call_ended', callId: pair.callId, reason: 'next', then: 'waiting' } as const;
      expect(await presser.next('call_ended')).toEqual({ ...base, by: 'you' });
      expect(await partner.next('call_ended')).toEqual({ ...base, by: 'partner' });

      const [pm, cm] = await Promise.all([presser.next('matched'), c.next('matched')]);
      expect(pm.callId).toBe(cm.callId);
      expect(pm.callId).not.toBe(pair.callId);
      await partner.next('queued');
      await expectNotMatched(partner);

      // The partner left behind is matched as soon as someone new arrives.
      const d = await s.client('D');
      d.send({ type: 'join' });
      const [partnerMatch, dm] = await Promise.all([partner.next('matched'), d.next('matched')]);
      expect(partnerMatch.callId).toBe(dm.callId);
    },
  );

  it('does not put two people who just skipped each other straight back together', async () => {
    const s = server();
    const { offerer: a, answerer: b, callId } = await matchPair(await s.client('A'), await s.client('B'));
    a.send({ type: 'next' });
    for (const c of [a, b]) {
      expect(await c.next('call_ended')).toMatchObject({ callId, reason: 'next', then: 'waiting' });
      await c.next('queued');
    }
    await expectNotMatched(a, b);

    // The one who pressed Next is first in line for the next arrival.
    const c = await s.client('C');
    c.send({ type: 'join' });
    const [am, cm] = await Promise.all([a.next('matched'), c.next('matched')]);
    expect(am.callId).toBe(cm.callId);
    await expectNotMatched(b);
  });
});

describe('moves name their call', () => {
  it('a Next for the old call that arrives after the presser was matched again is refused; the new call is intact', async () => {
    const s = server();
    const { offerer: a, answerer: b, callId: old } = await matchPair(await s.client('A'), await s.client('B'));
    const c = await s.client('C');
    c.send({ type: 'join' });
    await c.next('queued');

    a.send({ type: 'next', callId: old });
    const [am, cm] = await Promise.all([a.next('matched'), c.next('matched')]);
    expect(am.callId).toBe(cm.callId);
    // The second tap of a double Next (or one sent before the first one's call_ended arrived).
    a.send({ type: 'next', callId: old });
    expect(await a.nextError('stale_call')).toMatchObject({ ref: 'next' });
    a.send({ type: 'leave', callId: old });
    expect(await a.nextError('stale_call')).toMatchObject({ ref: 'leave' });

    await c.roundTrip();
    expect(c.all('call_ended')).toEqual([]);
    expect(s.duet.lobby.callOf(a.userId)?.id).toBe(am.callId);
    a.send({ type: 'chat', callId: am.callId, text: 'still here' });
    expect(await c.next('chat')).toMatchObject({ from: 'partner', text: 'still here' });
    await b.next('call_ended', (m) => m.callId === old);
  });

  it('two Nexts that cross: the later one is refused, and neither new call is ended by it', async () => {
    const s = server();
    const { offerer: a, answerer: b, callId: old } = await matchPair(await s.client('A'), await s.client('B'));
    a.autoRequeue = false;
    const c = await s.client('C');
    c.send({ type: 'join' });
    await c.next('queued');

    b.send({ type: 'next', callId: old });
    const [bm, cm] = await Promise.all([b.next('matched'), c.next('matched')]);
    expect(bm.callId).toBe(cm.callId);
    // a pressed Next on the same call before b's ended it: a's arrives second.
    expect(await a.next('call_ended')).toMatchObject({ callId: old, by: 'partner', then: 'waiting' });
    a.send({ type: 'next', callId: old });
    expect(await a.nextError('stale_call')).toMatchObject({ ref: 'next' });
    await expectNotMatched(a);
    expect(s.duet.lobby.statusOf(a.userId)).toBe('idle'); // held until a's client answers the end

    a.send({ type: 'requeue', callId: old });
    await a.next('queued');
    const d = await s.client('D');
    d.send({ type: 'join' });
    const [am, dm] = await Promise.all([a.next('matched'), d.next('matched')]);
    expect(am.callId).toBe(dm.callId);
    await c.roundTrip();
    expect(c.all('call_ended')).toEqual([]);
  });

  it('a Next or Stop naming no call does not end a call whose matched may still be on its way', async () => {
    const s = server();
    const a = await s.client('A');
    const b = await s.client('B');
    a.send({ type: 'join' });
    await a.next('queued');
    b.send({ type: 'join' });
    await b.next('matched');
    // a pressed Next, then Stop, while still waiting as far as a knew.
    a.sendRaw(JSON.stringify({ type: 'next' }));
    a.sendRaw(JSON.stringify({ type: 'leave' }));
    expect(await a.nextError('stale_call')).toMatchObject({ ref: 'next' });
    expect(await a.nextError('stale_call')).toMatchObject({ ref: 'leave' });
    const { callId } = await a.next('matched');
    await b.roundTrip();
    expect(b.all('call_ended')).toEqual([]);
    expect(s.duet.lobby.callOf(a.userId)?.id).toBe(callId);
  });

  it('the partner left behind is matchable only after acknowledging the end; Stop before that keeps them out', async () => {
    const s = server();
    const { offerer: a, answerer: b, callId } = await matchPair(await s.client('A'), await s.client('B'));
    b.autoRequeue = false;
    a.send({ type: 'leave', callId });
    expect(await b.next('call_ended')).toEqual({ type: 'call_ended', callId, reason: 'leave', by: 'partner', then: 'waiting' });
    const c = await s.client('C');
    c.send({ type: 'join' });
    await c.next('queued');
    await expectNotMatched(b, c);
    expect(s.duet.lobby.statusOf(b.userId)).toBe('idle');
    b.send({ type: 'requeue', callId: 'not-that-call' });
    expect(await b.nextError('stale_call')).toMatchObject({ ref: 'requeue' });

    b.send({ type: 'requeue', callId });
    const [bm, cm] = await Promise.all([b.next('matched'), c.next('matched')]);
    expect(bm.callId).toBe(cm.callId);

    // Stop before the acknowledgement: c's Next leaves b behind, b stops, and b is never matched again.
    c.send({ type: 'next', callId: cm.callId });
    await b.next('call_ended', (m) => m.callId === bm.callId);
    b.send({ type: 'leave', callId: bm.callId });
    await b.next('idle');
    b.send({ type: 'requeue', callId: bm.callId });
    expect(await b.nextError('stale_call')).toMatchObject({ ref: 'requeue' });
    const d = await s.client('D');
    d.send({ type: 'join' });
    const [dm, cm2] = await Promise.all([d.next('matched'), c.next('matched')]); // c pressed Next: queued at once
    expect(dm.callId).toBe(cm2.callId);
    await expectNotMatched(b);
    expect(s.duet.lobby.statusOf(b.userId)).toBe('idle');
  });
});

describe('leaving', () => {
  it('Stop leaves the presser idle and requeues the partner', async () => {
    const s = server();
    const { offerer: a, answerer: b, callId } = await matchPair(await s.client('A'), await s.client('B'));
    a.send({ type: 'leave' });
    expect(await a.next('call_ended')).toEqual({ type: 'call_ended', callId, reason: 'leave', by: 'you', then: 'idle' });
    expect(await b.next('call_ended')).toEqual({ type: 'call_ended', callId, reason: 'leave', by: 'partner', then: 'waiting' });
    await b.next('queued');

    await a.roundTrip();
    expect(a.pending('queued')).toEqual([]);
    expect(s.duet.lobby.statusOf(a.userId)).toBe('idle');
    expect(s.duet.lobby.statusOf(b.userId)).toBe('waiting');

    // Leaving the queue answers idle.
    b.send({ type: 'leave' });
    await b.next('idle');
    expect(s.duet.lobby.statusOf(b.userId)).toBe('idle');
  });

  it('holds a connected call for the grace window when a socket drops, then ends it as connection_lost', async () => {
    const s = server();
    const { offerer: a, answerer: b, callId } = await matchPair(await s.client('A'), await s.client('B'));
    await connectCall({ offerer: a, answerer: b, callId });
    a.terminate();
    expect(await b.next('call_reconnecting')).toEqual({ type: 'call_reconnecting', callId, graceMs: 1000 });
    expect(await b.next('call_ended', undefined, 3_000)).toEqual({
      type: 'call_ended',
      callId,
      reason: 'connection_lost',
      by: 'partner',
      then: 'waiting',
    });
    await b.next('queued');
  });

  it('resumes the same call when the dropped person reconnects within the grace window', async () => {
    const s = server();
    const guest = await s.guest();
    const { offerer: a, answerer: b, callId } = await matchPair(await s.client('A', { guest }), await s.client('B'));
    await connectCall({ offerer: a, answerer: b, callId });
    a.terminate();
    await b.next('call_reconnecting');
    const again = await s.rawClient('A again');
    expect(await again.hello(guest.token)).toMatchObject({ type: 'welcome', callId });
    // The browser's peer connection never dropped: it says so, and the call is whole again.
    again.send({ type: 'peer_state', callId, state: 'connected' });
    await Promise.all([b.next('call_connected'), again.next('call_connected')]);
    again.send({ type: 'chat', callId, text: 'still here' });
    expect(await b.next('chat')).toMatchObject({ text: 'still here' });
  });

  it('survives a media drop that recovers (ICE restart) and ends one that does not', async () => {
    const s = server();
    const { offerer: a, answerer: b, callId } = await matchPair(await s.client('A'), await s.client('B'));
    await connectCall({ offerer: a, answerer: b, callId });
    a.send({ type: 'peer_state', callId, state: 'disconnected' });
    await Promise.all([a.next('call_reconnecting'), b.next('call_reconnecting')]);
    a.send({ type: 'ice_refresh', callId });
    expect((await a.next('ice_servers')).callId).toBe(callId);
    a.send({ type: 'peer_state', callId, state: 'connected' });
    await Promise.all([a.next('call_connected'), b.next('call_connected')]);
    b.send({ type: 'peer_state', callId, state: 'failed' });
    await a.next('call_reconnecting');
    expect(await a.next('call_ended', undefined, 3_000)).toMatchObject({ callId, reason: 'connection_lost', by: 'partner' });
  });
});

describe('safety', () => {
  it('block ends the call and the two are never matched again, even after reconnecting', async () => {
    const s = server();
    const guestA = await s.guest();
    const guestB = await s.guest();
    const a = await s.client('A', { guest: guestA });
    const b = await s.client('B', { guest: guestB });
    const { callId } = await matchPair(a, b);

    a.send({ type: 'block', callId });
    const base = { type: 'call_ended', callId, reason: 'blocked', then: 'waiting' } as const;
    expect(await a.next('call_ended')).toEqual({ ...base, by: 'you' });
    expect(await b.next('call_ended')).toEqual({ ...base, by: 'partner' });
    await Promise.all([a.next('queued'), b.next('queued')]);
    await expectNotMatched(a, b);

    const rows = await s.duet.storage.db.selectFrom('blocks').selectAll().where('blocker_id', '=', guestA.userId).execute();
    expect(rows).toMatchObject([{ blocked_id: guestB.userId, call_id: callId }]);

    // New sockets start with no memory of the last partner: only the stored block keeps them apart.
    await a.close();
    await b.close();
    const a2 = await s.client('A2', { guest: guestA });
    const b2 = await s.client('B2', { guest: guestB });
    a2.send({ type: 'join' });
    await a2.next('queued');
    b2.send({ type: 'join' });
    await b2.next('queued');
    await expectNotMatched(a2, b2);

    const d = await s.client('D');
    d.send({ type: 'join' });
    const [am, dm] = await Promise.all([a2.next('matched'), d.next('matched')]);
    expect(am.callId).toBe(dm.callId);
    await expectNotMatched(b2);
  });

  it('report ends the call as reported, stores the report and keeps the two apart', async () => {
    const s = server();
    const { offerer: a, answerer: b, callId } = await matchPair(await s.client('A'), await s.client('B'));
    a.send({ type: 'report', callId, reason: 'harassment', comment: 'rude' });
    const base = { type: 'call_ended', callId, reason: 'reported', then: 'waiting' } as const;
    expect(await a.next('call_ended')).toEqual({ ...base, by: 'you' });
    expect(await b.next('call_ended')).toEqual({ ...base, by: 'partner' });
    await Promise.all([a.next('queued'), b.next('queued')]);
    await expectNotMatched(a, b);

    const reports = await s.duet.storage.db.selectFrom('reports').selectAll().where('call_id', '=', callId).execute();
    expect(reports).toMatchObject([{ reporter_id: a.userId, reported_id: b.userId, reason: 'harassment', comment: 'rude' }]);
  });
});

describe('sessions', () => {
  it('a second connection with the same token replaces the first (session_replaced, 4002)', async () => {
    const s = server();
    const guest = await s.guest();
    const first = await s.client('first', { guest });
    const second = await s.client('second', { guest });
    expect(second.userId).toBe(first.userId);
    await first.nextError('session_replaced');
    expect((await first.waitForClose()).code).toBe(4002);

    second.send({ type: 'join' });
    await second.next('queued');
    await second.roundTrip();
  });

  // The old tab may still send frames between `session_replaced` and its socket closing.
  it('ignores frames a replaced connection sends before its socket has closed', async () => {
    const s = server();
    const guest = await s.guest();
    const first = await s.client('first', { guest });
    // The moment the old tab hears it was replaced, it sends one more intent (still open: the
    // close frame follows the error on the wire).
    first.socket.on('message', (data) => {
      if (String(data).includes('session_replaced') && first.isOpen) first.send({ type: 'join' });
    });
    const second = await s.client('second', { guest });
    await first.waitForClose();
    await second.roundTrip();
    expect(second.all('queued')).toEqual([]);
    expect(s.duet.lobby.statusOf(guest.userId)).toBe('idle');
  });
});
