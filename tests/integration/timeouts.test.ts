import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { connectCall, matchPair, useTestServer } from './harness.js';

describe('connect timeout', () => {
  const CONNECT_TIMEOUT_MS = 1000;
  const server = useTestServer({ env: { CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS) } });
  /** Long enough for the server's timer to fire under load, short enough to fail fast. */
  const waitForTimeout = CONNECT_TIMEOUT_MS + 3000;

  it('ends calls that never connect as ice_failed by the server, and leaves connected calls alone', async () => {
    const s = server();
    // Matched first and connected: its timer would fire before the others' if it were not cancelled.
    const connected = await matchPair(await s.client('C'), await s.client('D'));
    await connectCall(connected);
    const silent = await matchPair(await s.client('E'), await s.client('F'));
    expect(silent.offerer.all('matched')[0]?.connectTimeoutMs).toBe(CONNECT_TIMEOUT_MS);
    // Only one side reporting connected is not a connected call.
    const halfConnected = await matchPair(await s.client('G'), await s.client('H'));
    halfConnected.offerer.send({ type: 'peer_state', callId: halfConnected.callId, state: 'connected' });

    for (const pair of [silent, halfConnected]) {
      for (const c of [pair.offerer, pair.answerer]) {
        const ended = await c.next('call_ended', undefined, waitForTimeout);
        expect(ended).toEqual({ type: 'call_ended', callId: pair.callId, reason: 'ice_failed', by: 'server', then: 'waiting' });
        await c.next('queued');
      }
    }

    // Everyone who failed is waiting, but nobody is put back with the partner they just failed with.
    // E, F, G and H may meet each other in new pairs, so look only for the old pairings.
    for (const pair of [silent, halfConnected]) {
      await pair.offerer.roundTrip();
      await pair.answerer.roundTrip();
      const partnerCalls = new Set(pair.answerer.all('matched').map((m) => m.callId));
      const rematched = pair.offerer.all('matched').filter((m) => m.callId !== pair.callId && partnerCalls.has(m.callId));
      expect(rematched).toEqual([]);
    }

    // The connected call outlived both timers.
    for (const c of [connected.offerer, connected.answerer]) {
      await c.roundTrip();
      expect(c.all('call_ended')).toEqual([]);
    }
    expect(s.duet.lobby.callOf(connected.offerer.userId)?.id).toBe(connected.callId);
  });
});

describe('heartbeat', () => {
  const HEARTBEAT_INTERVAL_MS = 500;
  const server = useTestServer({ env: { HEARTBEAT_INTERVAL_MS: String(HEARTBEAT_INTERVAL_MS), RECONNECT_GRACE_MS: '1000' } });
  /** The server pings on one tick and drops on the next: two intervals, plus scheduling slack. */
  const dropWithinMs = 2 * HEARTBEAT_INTERVAL_MS + 1000;

  it('drops a client that stops answering pings and tells its partner heartbeat_timeout', async () => {
    const s = server();
    // Answers pings by hand until the call is up, so it cannot be dropped before it is matched.
    const silent = await s.client('silent', { manualPong: true });
    const partner = await s.client('partner');
    const pair = await matchPair(silent, partner);
    await connectCall(pair);

    silent.answeringPings = false;
    // The partner hears at once that the call is reconnecting; the call ends after the grace window.
    await partner.next('call_reconnecting', undefined, dropWithinMs);
    const ended = await partner.next('call_ended', undefined, 3_000);
    expect(ended).toEqual({ type: 'call_ended', callId: pair.callId, reason: 'heartbeat_timeout', by: 'partner', then: 'waiting' });
    // terminate(): no closing handshake, so the client sees an abnormal closure.
    expect((await silent.waitForClose(dropWithinMs)).code).toBe(1006);
    expect(s.duet.lobby.isOnline(silent.userId)).toBe(false);

    // A client that answers is kept through several more heartbeats.
    for (let i = 0; i < 3; i++) await once(partner.socket, 'ping', { signal: AbortSignal.timeout(dropWithinMs) });
    await partner.roundTrip();
    expect(partner.isOpen).toBe(true);
    expect(s.duet.lobby.statusOf(partner.userId)).toBe('waiting');
  });
});
