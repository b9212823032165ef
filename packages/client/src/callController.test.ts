import type { ClientMessage, ServerMessageOf } from '@duet/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallController } from './callController.js';

/** Just enough of a peer connection for a call that never negotiates (the answerer waits for an offer). */
class FakePeerConnection {
  connectionState = 'new';
  onnegotiationneeded: unknown = null;
  onicecandidate: unknown = null;
  ontrack: unknown = null;
  onconnectionstatechange: unknown = null;
  close(): void {
    this.connectionState = 'closed';
  }
}

const g = globalThis as { RTCPeerConnection?: unknown };
const original = g.RTCPeerConnection;
beforeAll(() => {
  g.RTCPeerConnection = FakePeerConnection;
});
afterAll(() => {
  g.RTCPeerConnection = original;
});

function setup() {
  const sent: ClientMessage[] = [];
  const errors: string[] = [];
  const calls = new CallController({ send: (m) => sent.push(m), localStream: () => ({}) as MediaStream });
  calls.on('error', (e) => errors.push(e.code));
  const matched = (callId: string): ServerMessageOf<'matched'> => ({
    type: 'matched',
    callId,
    role: 'answerer',
    iceServers: [],
    connectTimeoutMs: 15_000,
  });
  const moves = () => sent.filter((m) => m.type !== 'stats');
  calls.start({ language: 'en' });
  calls.handle({ type: 'queued', waiting: 1 });
  return { calls, sent, errors, matched, moves };
}

describe('CallController: moves name their call', () => {
  it('Next and Stop name the call the person sees; without one they name none', () => {
    const t = setup();
    t.calls.next();
    t.calls.handle(t.matched('c1'));
    t.calls.next();
    t.calls.stop();
    expect(t.moves().slice(1)).toEqual([{ type: 'next' }, { type: 'next', callId: 'c1' }, { type: 'leave', callId: 'c1' }]);
  });

  it('answers an end someone else caused with requeue, and its own Next with nothing', () => {
    const t = setup();
    t.calls.handle(t.matched('c1'));
    t.calls.handle({ type: 'call_ended', callId: 'c1', reason: 'next', by: 'partner', then: 'waiting' });
    expect(t.moves().at(-1)).toEqual({ type: 'requeue', callId: 'c1' });
    expect(t.calls.state).toBe('waiting');
    t.calls.handle(t.matched('c2'));
    t.calls.next();
    const before = t.moves().length;
    t.calls.handle({ type: 'call_ended', callId: 'c2', reason: 'next', by: 'you', then: 'waiting' });
    expect(t.moves()).toHaveLength(before);
    expect(t.calls.state).toBe('waiting');
  });

  it('after Stop: no requeue for an end that crossed it, and a match that crossed it is left by name', () => {
    const t = setup();
    t.calls.handle(t.matched('c1'));
    t.calls.stop();
    t.calls.handle({ type: 'call_ended', callId: 'c1', reason: 'next', by: 'partner', then: 'waiting' });
    expect(t.moves().filter((m) => m.type === 'requeue')).toEqual([]);
    t.calls.handle({ type: 'idle' });
    expect(t.calls.state).toBe('idle');

    const u = setup();
    u.calls.stop();
    u.calls.handle(u.matched('c9'));
    expect(u.moves().at(-1)).toEqual({ type: 'leave', callId: 'c9' });
    expect(u.calls.callId).toBeNull();
  });

  it('keeps stale_call from the person: the refused move changed nothing', () => {
    const t = setup();
    t.calls.handle({ type: 'error', code: 'stale_call', message: 'stale', ref: 'next' });
    expect(t.errors).toEqual([]);
  });

  describe('while the signaling socket is down', () => {
    it('Stop ends the call here at once; the leave goes once reconnected, if the server still holds the call', () => {
      const t = setup();
      t.calls.handle(t.matched('c1'));
      t.calls.disconnected();
      expect(t.calls.state).toBe('reconnecting');
      const before = t.moves().length;
      t.calls.stop();
      expect(t.moves()).toHaveLength(before); // nothing sent into a dead socket
      expect(t.calls.state).toBe('ended');
      expect(t.calls.lastEnd).toEqual({ callId: 'c1', reason: 'leave', by: 'you' });
      expect(t.calls.callId).toBeNull();
      t.calls.welcomed('c1');
      expect(t.moves().slice(before)).toEqual([{ type: 'leave', callId: 'c1' }]);
    });

    it('Next ends the call here; on reconnect it skips the held call, or looks again if the call is gone', () => {
      const t = setup();
      t.calls.handle(t.matched('c1'));
      t.calls.disconnected();
      const before = t.moves().length;
      t.calls.next();
      expect(t.calls.lastEnd).toMatchObject({ callId: 'c1', reason: 'next' });
      t.calls.welcomed('c1');
      expect(t.moves().slice(before)).toEqual([{ type: 'next', callId: 'c1' }]);

      const u = setup();
      u.calls.handle(u.matched('c2'));
      u.calls.disconnected();
      const start = u.moves().length;
      u.calls.next();
      u.calls.welcomed(undefined);
      expect(
        u
          .moves()
          .slice(start)
          .map((m) => m.type),
      ).toEqual(['join']);
    });

    it('a report made offline is filed on reconnect even if the call is over by then', () => {
      const t = setup();
      t.calls.handle(t.matched('c1'));
      t.calls.disconnected();
      const before = t.moves().length;
      expect(t.calls.report('harassment')).toBe('c1');
      expect(t.calls.lastEnd).toMatchObject({ reason: 'reported' });
      t.calls.welcomed(undefined);
      expect(t.moves().slice(before)).toEqual([
        { type: 'report', callId: 'c1', reason: 'harassment' },
        expect.objectContaining({ type: 'join' }),
      ]);
    });
  });
});
