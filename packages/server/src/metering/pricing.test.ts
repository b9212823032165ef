import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  billedUnits,
  chargeAfterFree,
  chargeFor,
  DAY_MS,
  msAffordable,
  msLeft,
  paidMs,
  priceOf,
  MICROS,
  utcDayStart,
  type PriceList,
} from './pricing.js';

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
      fc.property(
        fc.nat(10_000_000),
        fc.nat(10_000_000),
        fc.nat(100 * MICROS),
        fc.constantFrom('second' as const, 'minute' as const),
        (x, y, p, rounding) => {
          const price = { perMinuteMicros: p, rounding };
          return chargeFor(Math.min(x, y), price) <= chargeFor(Math.max(x, y), price);
        },
      ),
    );
  });

  it('incremental postings add up to the charge of the whole call, however the call is sliced', () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat(20_000), { maxLength: 200 }),
        fc.nat(10 * MICROS),
        fc.constantFrom('second' as const, 'minute' as const),
        (steps, p, rounding) => {
          const price = { perMinuteMicros: p, rounding };
          let billed = 0;
          let posted = 0;
          for (const step of steps) {
            billed += step;
            posted += chargeFor(billed, price) - posted; // what the meter posts at each heartbeat
          }
          return posted === chargeFor(billed, price);
        },
      ),
    );
  });

  it('per second, a minute costs exactly the per-minute price, with no drift', () => {
    fc.assert(
      fc.property(
        fc.nat(1_000_000),
        fc.nat(1_000),
        (p, minutes) => priceOf(minutes * 60, { perMinuteMicros: p, rounding: 'second' }) === minutes * p,
      ),
    );
  });

  it('affordable time never overspends and leaves less than one unit unused', () => {
    fc.assert(
      fc.property(
        fc.nat(50 * MICROS),
        fc.nat(3_600_000),
        fc.integer({ min: 1, max: 10 * MICROS }),
        fc.constantFrom('second' as const, 'minute' as const),
        (balance, billed, p, rounding) => {
          const price = { perMinuteMicros: p, rounding };
          const more = msAffordable(balance, billed, price);
          const cost = chargeFor(billed + more, price) - chargeFor(billed, price);
          const unit = rounding === 'second' ? 1000 : 60_000;
          const next = chargeFor(billed + more + unit, price) - chargeFor(billed, price);
          return cost <= balance && (next > balance || more === 0);
        },
      ),
    );
    expect(msAffordable(123, 0, { perMinuteMicros: 0, rounding: 'second' })).toBe(Infinity);
  });

  describe('daily free minutes', () => {
    const rounding = fc.constantFrom('second' as const, 'minute' as const);
    const ms = fc.nat(20_000_000);

    it('uses the free time first and rounds only the paid remainder', () => {
      // 5 free minutes, a 7.5-minute call: 3 started minutes paid, or 150 whole seconds.
      expect(chargeAfterFree(450_000, 300_000, perMinute)).toBe(3 * MICROS);
      expect(billedUnits(paidMs(450_000, 300_000), 'minute')).toBe(3);
      expect(chargeAfterFree(450_000, 300_000, perSecond)).toBe(2.5 * MICROS);
      expect(chargeAfterFree(90_000, 60_000, perSecond)).toBe(MICROS / 2);
      expect(chargeAfterFree(60_000, 60_000, perMinute)).toBe(0);
      expect(chargeAfterFree(60_001, 60_000, perMinute)).toBe(MICROS);
      // Per second, a partial paid second is free: 61.9 s with 1 free minute pays one second.
      expect(chargeAfterFree(61_900, 60_000, perSecond)).toBe(Math.floor(MICROS / 60));
    });

    it('is never negative, never more than without free time, and exactly the charge of what is left after it', () => {
      fc.assert(
        fc.property(ms, ms, fc.nat(10 * MICROS), rounding, (billed, free, p, r) => {
          const price = { perMinuteMicros: p, rounding: r };
          const charge = chargeAfterFree(billed, free, price);
          return (
            paidMs(billed, free) >= 0 &&
            charge >= 0 &&
            charge <= chargeFor(billed, price) &&
            (billed <= free ? charge === 0 : charge === chargeFor(billed - free, price))
          );
        }),
      );
    });

    it('is monotonic: more talk never costs less, more free time never costs more', () => {
      fc.assert(
        fc.property(ms, ms, ms, fc.nat(10 * MICROS), rounding, (x, y, free, p, r) => {
          const price = { perMinuteMicros: p, rounding: r };
          const [lo, hi] = [Math.min(x, y), Math.max(x, y)];
          return (
            chargeAfterFree(lo, free, price) <= chargeAfterFree(hi, free, price) &&
            chargeAfterFree(free, hi, price) <= chargeAfterFree(free, lo, price)
          );
        }),
      );
    });

    it('incremental postings add up to the charge of the whole call with free time too', () => {
      fc.assert(
        fc.property(fc.array(fc.nat(20_000), { maxLength: 200 }), fc.nat(600_000), fc.nat(10 * MICROS), rounding, (steps, free, p, r) => {
          const price = { perMinuteMicros: p, rounding: r };
          let billed = 0;
          let posted = 0;
          for (const step of steps) {
            billed += step;
            const target = chargeAfterFree(billed, free, price);
            if (target < posted) return false;
            posted = target;
          }
          return posted === chargeAfterFree(billed, free, price);
        }),
      );
    });

    it('the time left counts the free time still unused, then never overspends the balance', () => {
      fc.assert(
        fc.property(
          fc.nat(50 * MICROS),
          fc.nat(3_600_000),
          fc.nat(600_000),
          fc.integer({ min: 1, max: 10 * MICROS }),
          rounding,
          (balance, billed, free, p, r) => {
            const price = { perMinuteMicros: p, rounding: r };
            const more = msLeft(balance, billed, free, price);
            const cost = chargeAfterFree(billed + more, free, price) - chargeAfterFree(billed, free, price);
            return (
              more >= Math.max(0, free - billed) &&
              cost <= balance &&
              more === Math.max(0, free - billed) + msAffordable(balance, paidMs(billed, free), price)
            );
          },
        ),
      );
      expect(msLeft(0, 20_000, 60_000, perSecond)).toBe(40_000);
      expect(msLeft(0, 90_000, 60_000, perSecond)).toBe(0);
    });

    it('a day is a UTC day', () => {
      const noon = Date.UTC(2026, 10, 27, 12, 0, 0);
      expect(utcDayStart(noon)).toBe(Date.UTC(2026, 10, 27));
      expect(utcDayStart(Date.UTC(2026, 10, 27))).toBe(Date.UTC(2026, 10, 27));
      expect(utcDayStart(Date.UTC(2026, 10, 27) - 1)).toBe(Date.UTC(2026, 10, 26));
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: 2 ** 45 }),
          (at) => utcDayStart(at) <= at && at - utcDayStart(at) < DAY_MS && utcDayStart(at) % DAY_MS === 0,
        ),
      );
    });
  });
});
