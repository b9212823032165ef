import type { T } from './format.js';

/** Money in the console: integer micro-credits from the server, shown in credits (1 credit = 1,000,000). */
const MICROS = 1_000_000;

function format(t: T, micros: number, maxDigits: number): string {
  // A true minus sign, so negative amounts line up and read as negative.
  return t.intl.formatNumber(micros / MICROS, { minimumFractionDigits: 2, maximumFractionDigits: maxDigits }).replace('-', '−');
}

/** "1,234.50", "−0.75": a table cell or a tile, where the unit is said once around it. */
export function money(t: T, micros: number): string {
  return format(t, micros, 2);
}

/**
 * Per-minute amounts are small: up to four decimals ("0.0417"). A large one (a day's cost over a few
 * seconds billed: −1,058.82) needs no more than cents, and would not fit a phone's tile with them.
 */
export function moneyPerMinute(t: T, micros: number): string {
  return format(t, micros, Math.abs(micros) >= 100 * MICROS ? 2 : 4);
}

/** "2.50 credits", "1.00 credit" for sentences. */
export function credits(t: T, micros: number): string {
  return t('console.money.credits', { n: Math.round(micros / 10_000) / 100, amount: money(t, micros) });
}
