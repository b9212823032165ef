import { describe, expect, it } from 'vitest';
import { callQualityTotals, qualityScore } from './insights.js';

const q = (estDelayMsP50: number | null, audioConcealmentMax: number | null) => ({
  rttMsP50: 40,
  packetLossMax: 0,
  freezeMs: 0,
  estDelayMsP50,
  estDelayMsMax: estDelayMsP50,
  audioConcealmentMax,
});

describe('call quality totals', () => {
  it('counts calls over the 500 ms budget and with broken audio among measured calls', () => {
    const calls = new Map([
      ['fine', q(120, 0.002)],
      ['slow', q(650, 0.01)],
      ['broken', q(200, 0.09)],
      ['both', q(900, 0.3)],
      ['edge', q(500, 0.05)],
      ['unknown', q(null, null)],
    ]);
    expect(callQualityTotals(calls)).toEqual({ measured: 6, overBudget: 2, brokenAudio: 2 });
  });

  it('scores concealed voice: a point per 1 % in the worst 10 s', () => {
    expect(qualityScore(q(0, 0.05)) - qualityScore(q(0, 0))).toBeCloseTo(5);
  });
});
