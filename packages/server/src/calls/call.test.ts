import { describe, expect, it } from 'vitest';
import { Call, IllegalTransition } from './call.js';

describe('Call', () => {
  it('moves matched -> connecting -> connected -> ended, timestamping each step', () => {
    const c = new Call('c1', 'a', 'b', 100);
    expect(c.transition('connecting', 110)).toBe(true);
    expect(c.transition('connecting', 120)).toBe(false); // no-op, first timestamp kept
    expect(c.transition('connected', 130)).toBe(true);
    expect(c.end('next', 'a', 200)).toBe(true);
    expect(c.at).toEqual({ matched: 100, connecting: 110, connected: 130, ended: 200 });
    expect([c.endReason, c.endedBy]).toEqual(['next', 'a']);
  });

  it('rejects illegal moves and ends only once', () => {
    const c = new Call('c1', 'a', 'b', 0);
    expect(() => c.transition('connected', 1)).toThrow(IllegalTransition);
    c.end('ice_failed', null, 5);
    expect(c.end('leave', 'a', 6)).toBe(false);
    expect(c.endReason).toBe('ice_failed');
    expect(() => c.transition('connecting', 7)).toThrow(IllegalTransition);
  });

  it('is connected only when both browsers say so', () => {
    const c = new Call('c1', 'a', 'b', 0);
    expect(c.peerConnected('a')).toBe(false);
    expect(c.peerConnected('a')).toBe(false);
    expect(c.peerConnected('b')).toBe(true);
    expect(c.partnerOf('a')).toBe('b');
    expect(() => c.partnerOf('z')).toThrow();
  });
});
