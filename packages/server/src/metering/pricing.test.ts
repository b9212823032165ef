import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { billedUnits, chargeFor, msAffordable, priceOf, MICROS, type PriceList } from './pricing.js';

const perSecond: PriceList = { perMinuteMicros: MICROS, rounding: 'second' };
const perMinute: PriceList = { perMinuteMicros: MICROS, rounding: 'minute' };

describe('pricing', () => {
  it('bills whole seconds, or started minutes once per call', () => {
    expect(billedUnits(0, 'second')).toBe(0);
    expect(billedUnits(999, 'second')).toBe(0);
    expect(billedUnits(61_500, 'second')).toBe(61);
    expect(billedUnits(1, 'minute')).toBe(1);
    expect(billedUnits(60_000, 'minute')).toBe(1);
    expect(billedUnits(60_001, 'minute')).toBe(2);
    expect(chargeFor(90_000, perSecond)).toBe(1_500_000);
    expect(chargeFor(90_000, perMinute)).toBe(2_000_000);
    expect(chargeFor(90_000, { perMinuteMicros: 0, rounding: 'second' })).toBe(0);
  });

  it('is monotonic: more talk never costs less', () => {
    fc.assert(
      fc.property(fc.nat(10_000_000), fc.nat(10_000_000), fc.nat(100 * MICROS), fc.constantFrom('second' as const, 'minute' as const), (x, y, p, rounding) => {
        const price = { perMinuteMicros: p, rounding };
        return chargeFor(Math.min(x, y), price) <= chargeFor(Math.max(x, y), price);
      }),
    );
  });

  it('incremental postings add up to the charge of the whole call, however the call is sliced', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(20_000), { maxLength: 200 }), fc.nat(10 * MICROS), fc.constantFrom('second' as const, 'minute' as const), (steps, p, rounding) => {
        const price = { perMinuteMicros: p, rounding };
        let billed = 0;
        let posted = 0;
        for (const step of steps) {
          billed += step;
          posted += chargeFor(billed, price) - posted; // what the meter posts at each heartbeat
        }
        return posted === chargeFor(billed, price);
      }),
    );
  });

  it('per second, a minute costs exactly the per-minute price, with no drift', () => {
    fc.assert(fc.property(fc.nat(1_000_000), fc.nat(1_000), (p, minutes) => priceOf(minutes * 60, { perMinuteMicros: p, rounding: 'second' }) === minutes * p));
  });

  it('affordable time never overspends and leaves less than one unit unused', () => {
    fc.assert(
      fc.property(fc.nat(50 * MICROS), fc.nat(3_600_000), fc.integer({ min: 1, max: 10 * MICROS }), fc.constantFrom('second' as const, 'minute' as const), (balance, billed, p, rounding) => {
        const price = { perMinuteMicros: p, rounding };
        const more = msAffordable(balance, billed, price);
        const cost = chargeFor(billed + more, price) - chargeFor(billed, price);
        const unit = rounding === 'second' ? 1000 : 60_000;
        const next = chargeFor(billed + more + unit, price) - chargeFor(billed, price);
        return cost <= balance && (next > balance || more === 0);
      }),
    );
    expect(msAffordable(123, 0, { perMinuteMicros: 0, rounding: 'second' })).toBe(Infinity);
  });
});
