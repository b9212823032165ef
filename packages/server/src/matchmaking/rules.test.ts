import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY, compatible, pickPartner, rank, stageOf } from './rules.js';
import { ticket } from '../testing/tickets.js';

const P = {
  ...DEFAULT_POLICY,
  interestsRequiredMs: 10_000,
  regionRequiredMs: 30_000,
  recentCount: 2,
  recentWindowMs: 60_000,
  smallPool: 3,
  relaxRecentAfterMs: 20_000,
};

describe('matching rules', () => {
  it('widens with the wait: strict, then interests optional, then region dropped', () => {
    const t = ticket('a', { joinedAt: 1_000 });
    expect(stageOf(t, 1_000, P)).toBe('strict');
    expect(stageOf(t, 10_999, P)).toBe('strict');
    expect(stageOf(t, 11_000, P)).toBe('interests');
    expect(stageOf(t, 31_000, P)).toBe('region');
  });

  it('requires a shared interest only while strict, and only of someone who gave interests', () => {
    const chess = ticket('a', { interests: ['chess'] });
    const music = ticket('b', { interests: ['music'] });
    const none = ticket('c');
    expect(compatible(chess, music, 0, P, 10)).toBe(false);
    expect(compatible(chess, none, 0, P, 10)).toBe(false);
    expect(compatible(music, ticket('d', { interests: ['music', 'art'] }), 0, P, 10)).toBe(true);
    expect(compatible(none, ticket('e'), 0, P, 10)).toBe(true);
    // After the wait, interests are a preference only.
    expect(compatible(chess, music, 10_000, P, 10)).toBe(true);
  });

  it('keeps mode and language hard, region until it is dropped', () => {
    expect(compatible(ticket('a', { mode: 'advice' }), ticket('b'), 99_999, P, 10)).toBe(false);
    expect(compatible(ticket('a', { language: 'fr' }), ticket('b'), 99_999, P, 10)).toBe(false);
    const eu = ticket('a', { region: 'eu' });
    expect(compatible(eu, ticket('b', { region: 'us' }), 0, P, 10)).toBe(false);
    expect(compatible(eu, ticket('b'), 0, P, 10)).toBe(false);
    expect(compatible(eu, ticket('b', { region: 'eu' }), 0, P, 10)).toBe(true);
    expect(compatible(eu, ticket('b', { region: 'us' }), 30_000, P, 10)).toBe(true);
  });

  it('gives someone who asks for verified people only verified partners, however long they wait', () => {
    const picky = ticket('a', { verifiedOnly: true });
    expect(compatible(picky, ticket('b'), 99_999, P, 10)).toBe(false);
    expect(compatible(ticket('b'), picky, 99_999, P, 10)).toBe(false);
    expect(compatible(picky, ticket('b', { verified: true }), 0, P, 10)).toBe(true);
    // Two people who both ask for it meet only when both are verified.
    expect(compatible(ticket('c', { verifiedOnly: true, verified: true }), picky, 0, P, 10)).toBe(false);
    expect(
      compatible(ticket('c', { verifiedOnly: true, verified: true }), ticket('d', { verifiedOnly: true, verified: true }), 0, P, 10),
    ).toBe(true);
  });

  it('avoids recent partners, relaxing only in a tiny pool after a wait', () => {
    const a = ticket('a', { recent: [{ userId: 'b', at: 0 }] });
    const b = ticket('b');
    expect(compatible(a, b, 1_000, P, 2)).toBe(false); // tiny pool, but not waited long enough
    expect(compatible(a, b, 20_000, P, 10)).toBe(false); // waited, but the pool is not tiny
    expect(compatible(a, b, 20_000, P, 2)).toBe(true);
    expect(compatible(a, b, 61_000, P, 10)).toBe(true); // outside the window
    // Only the last `recentCount` partners count.
    const many = ticket('a', {
      recent: [
        { userId: 'b', at: 0 },
        { userId: 'c', at: 1 },
        { userId: 'd', at: 2 },
      ],
    });
    expect(compatible(many, b, 100, P, 10)).toBe(true);
  });

  it('never pairs a blocked pair, whatever the wait or pool', () => {
    fc.assert(
      fc.property(fc.nat(10_000_000), fc.nat(10), fc.boolean(), (now, pool, fromA) => {
        const a = ticket('a', fromA ? { blocked: new Set(['b']) } : {});
        const b = ticket('b', fromA ? {} : { blocked: new Set(['a']) });
        return !compatible(a, b, now, P, pool) && !compatible(b, a, now, P, pool);
      }),
    );
  });

  it('is symmetric', () => {
    const arb = fc.record({
      userId: fc.constantFrom('a', 'b', 'c'),
      mode: fc.constantFrom('chat', 'advice'),
      language: fc.constantFrom('en', 'fr'),
      region: fc.constantFrom(undefined, 'eu', 'us'),
      interests: fc.subarray(['chess', 'music', 'art']),
      joinedAt: fc.nat(100_000),
    });
    fc.assert(
      fc.property(arb, arb, fc.nat(200_000), fc.nat(6), (x, y, now, pool) => {
        const a = ticket(x.userId, x);
        const b = ticket(y.userId === x.userId ? `${y.userId}2` : y.userId, y);
        return compatible(a, b, now, P, pool) === compatible(b, a, now, P, pool);
      }),
    );
  });

  it('ranks more shared interests first, then same region, then the longest wait', () => {
    const t = ticket('t', { interests: ['chess', 'go'], region: 'eu', joinedAt: 50 });
    const both = ticket('x', { interests: ['chess', 'go'], joinedAt: 30 });
    const one = ticket('y', { interests: ['chess'], joinedAt: 1 });
    const oneEu = ticket('z', { interests: ['go'], region: 'eu', joinedAt: 20 });
    const oneOlder = ticket('w', { interests: ['go'], joinedAt: 0 });
    expect([one, oneEu, both, oneOlder].sort((p, q) => rank(t, p, q)).map((x) => x.userId)).toEqual(['x', 'z', 'w', 'y']);
    expect(pickPartner(t, [one, oneOlder, oneEu], 100, P, 10)?.userId).toBe('z');
  });
});
