import type { BillingInfo } from '@duet/client';

/** Money is integer micro-credits everywhere: 1 credit = 1,000,000 µc. Never multiplied as floats. */
export const MICROS = 1_000_000;

export type Price = BillingInfo['price'];

/**
 * "2.50 credits", "0.21 credits", "−1.00 credits". Cut to two decimals toward zero, so a balance is
 * never shown as more than it is. `exact` keeps every micro-credit ("0.216666 credits") for receipts.
 */
export function credits(micros: number, { exact = false, sign = false }: { exact?: boolean; sign?: boolean } = {}): string {
  const negative = micros < 0;
  const abs = Math.abs(Math.trunc(micros));
  const whole = Math.floor(abs / MICROS);
  const frac = abs % MICROS;
  let decimals = String(frac).padStart(6, '0');
  decimals = exact ? decimals.replace(/0+$/, '').padEnd(2, '0') : decimals.slice(0, 2);
  const number = `${whole.toLocaleString('en')}.${decimals}`;
  const prefix = negative ? '−' : sign && micros > 0 ? '+' : '';
  return `${prefix}${number} ${number === '1.00' ? 'credit' : 'credits'}`;
}

/** A price: "1 credit / min", "0.25 credits / min" (whole credits without decimals). */
export function perMinute(micros: number): string {
  if (micros % MICROS === 0) {
    const n = micros / MICROS;
    return `${n.toLocaleString('en')} ${n === 1 ? 'credit' : 'credits'} / min`;
  }
  return `${credits(micros, { exact: true })} / min`;
}

/** "1 credit / min, billed per second" — the whole price in words. */
export function priceLabel(price: Price): string {
  return `${perMinute(price.perMinuteMicros)}, ${price.rounding === 'second' ? 'billed per second' : 'billed per started minute'}`;
}

export function isFree(price: Price | undefined | null): boolean {
  return !price || price.perMinuteMicros === 0;
}

/**
 * What `billedMs` of talk costs: the server's rule (docs/billing.md), repeated here only to tick
 * the meter between the server's updates. Per second: ⌊seconds × price / 60⌋ over the whole call;
 * per minute: each started minute.
 */
export function chargeFor(billedMs: number, price: Price): number {
  if (billedMs <= 0) return 0;
  if (price.rounding === 'minute') return Math.ceil(billedMs / 60_000) * price.perMinuteMicros;
  return Math.floor((Math.floor(billedMs / 1000) * price.perMinuteMicros) / 60);
}

/** A call's length: 0:07, 2:15, 1:02:10. Whole seconds, cut down (never more than was billed). */
export function duration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

/** "2 min 15 s", "45 s", for receipts, where a clock face reads oddly. */
export function durationWords(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const parts = [h > 0 ? `${h} h` : '', m > 0 ? `${m} min` : '', s % 60 > 0 || s === 0 ? `${s % 60} s` : ''];
  return parts.filter(Boolean).join(' ');
}

const dateFmt = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', year: 'numeric' });
const timeFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const fullFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'long', timeStyle: 'short' });

export function dateLabel(t: number): string {
  return dateFmt.format(t);
}
export function timeLabel(t: number): string {
  return timeFmt.format(t);
}
export function fullDate(t: number): string {
  return fullFmt.format(t);
}

const CREDIT_KINDS: Record<string, string> = {
  grant: 'Welcome credits',
  topup: 'Top-up',
  adjustment: 'Adjustment by support',
  refund: 'Refund',
};

export function creditKindLabel(kind: string): string {
  return CREDIT_KINDS[kind] ?? 'Credit';
}
