/**
 * Pricing rules, pure. Money is integer micro-credits (1 credit = 1,000,000 µc): no floating point
 * ever touches a balance.
 */
export const MICROS = 1_000_000;

export type Rounding = 'second' | 'minute';

export interface PriceList {
  /** Price of one minute, in micro-credits (0: free; metering still runs). */
  readonly perMinuteMicros: number;
  /**
   * 'second': each whole second billed (a partial last second is free).
   * 'minute': each started minute, counted once per call (a reconnect never starts a new minute).
   */
  readonly rounding: Rounding;
}

/** Units billed for `billedMs` of media: seconds or started minutes. */
export function billedUnits(billedMs: number, rounding: Rounding): number {
  if (billedMs <= 0) return 0;
  return rounding === 'second' ? Math.floor(billedMs / 1000) : Math.ceil(billedMs / 60_000);
}

/** What `units` cost. Per second, the per-minute price is spread exactly: no drift over a call. */
export function priceOf(units: number, price: PriceList): number {
  if (price.rounding === 'minute') return units * price.perMinuteMicros;
  // floor(units * perMinute / 60) over the cumulative total, so rounding never accumulates.
  return Math.floor((units * price.perMinuteMicros) / 60);
}

/** The cumulative charge for a call billed `billedMs`: incremental postings are differences of this. */
export function chargeFor(billedMs: number, price: PriceList): number {
  return priceOf(billedUnits(billedMs, price.rounding), price);
}

/** How many milliseconds of talk a balance still pays for (Infinity when calls are free). */
export function msAffordable(balanceMicros: number, alreadyBilledMs: number, price: PriceList): number {
  if (price.perMinuteMicros === 0) return Infinity;
  const spent = chargeFor(alreadyBilledMs, price);
  const budget = spent + Math.max(0, balanceMicros);
  if (price.rounding === 'minute') {
    const minutes = Math.floor(budget / price.perMinuteMicros);
    return Math.max(0, minutes * 60_000 - alreadyBilledMs);
  }
  // The largest whole number of seconds whose cumulative price fits the budget.
  const seconds = Math.floor(((budget + 1) * 60 - 1) / price.perMinuteMicros);
  return Math.max(0, seconds * 1000 - alreadyBilledMs);
}

/**
 * Daily free minutes: of a call's billable time, the first `freeMs` are free and the rest is paid.
 * Free time is used first; rounding applies to the paid remainder only.
 */
export function paidMs(billedMs: number, freeMs: number): number {
  return Math.max(0, billedMs - Math.max(0, freeMs));
}

/** The cumulative charge for a call billed `billedMs` whose first `freeMs` are free. */
export function chargeAfterFree(billedMs: number, freeMs: number, price: PriceList): number {
  return chargeFor(paidMs(billedMs, freeMs), price);
}

/** How much longer someone can talk: what is left of the call's free time, then what the balance pays for. */
export function msLeft(balanceMicros: number, billedMs: number, freeMs: number, price: PriceList): number {
  return Math.max(0, freeMs - Math.max(0, billedMs)) + msAffordable(balanceMicros, paidMs(billedMs, freeMs), price);
}

export const DAY_MS = 86_400_000;

/** Start of the UTC day `at` falls on: the day whose free minutes a call connecting then uses. */
export function utcDayStart(at: number): number {
  return at - (((at % DAY_MS) + DAY_MS) % DAY_MS);
}
