import type { BillingInfo } from '@duet/client';
import type { AppMessageId } from './i18n/index.js';
import type { AppText } from './messages.js';

/** Money is integer micro-credits everywhere: 1 credit = 1,000,000 µc. Never multiplied as floats. */
export const MICROS = 1_000_000;

export type Price = BillingInfo['price'];

/**
 * "2.50 credits", "0.21 credits", "−1.00 credits", in the person's language and number format. Cut
 * to two decimals toward zero, so a balance is never shown as more than it is. `exact` keeps every
 * micro-credit ("0.216666 credits") for receipts.
 */
export function credits(t: AppText, micros: number, { exact = false, sign = false }: { exact?: boolean; sign?: boolean } = {}): string {
  const negative = micros < 0;
  const abs = Math.abs(Math.trunc(micros));
  // Cut in integers first; only the already-cut value is handed to the number formatter.
  const shown = exact ? abs : abs - (abs % (MICROS / 100));
  const value = shown / MICROS;
  const amount = t.intl.formatNumber(value, { minimumFractionDigits: 2, maximumFractionDigits: exact ? 6 : 2 });
  const prefix = negative ? '−' : sign && micros > 0 ? '+' : '';
  return prefix + t('app.money.credits', { count: value, amount });
}

/** A price: "1 credit / min", "0.25 credits / min" (whole credits without decimals). */
export function perMinute(t: AppText, micros: number): string {
  const price = micros % MICROS === 0 ? t('app.money.creditsWhole', { count: micros / MICROS }) : credits(t, micros, { exact: true });
  return t('app.money.perMinute', { price });
}

/** "1 credit / min, billed per second" — the whole price in words. */
export function priceLabel(t: AppText, price: Price): string {
  return t('app.money.price', { perMinute: perMinute(t, price.perMinuteMicros), rounding: price.rounding });
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
export function durationWords(t: AppText, ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const parts = [
    h > 0 ? t('app.unit.hours', { n: h }) : '',
    m > 0 ? t('app.unit.minutes', { n: m }) : '',
    s % 60 > 0 || s === 0 ? t('app.unit.seconds', { n: s % 60 }) : '',
  ];
  return parts.filter(Boolean).join(' ');
}

/** "7 Dec 2026" in the person's locale. */
export function dateLabel(t: AppText, at: number): string {
  return t.intl.formatDate(at, { day: 'numeric', month: 'short', year: 'numeric' });
}
/** "14:05" or "2:05 PM", as the person's locale writes the time. */
export function timeLabel(t: AppText, at: number): string {
  return t.intl.formatTime(at, { hour: '2-digit', minute: '2-digit' });
}
export function fullDate(t: AppText, at: number): string {
  return t.intl.formatDate(at, { dateStyle: 'long', timeStyle: 'short' });
}

const CREDIT_KINDS: Record<string, AppMessageId> = {
  grant: 'app.creditKind.grant',
  topup: 'app.creditKind.topup',
  adjustment: 'app.creditKind.adjustment',
  refund: 'app.creditKind.refund',
};

export function creditKindLabel(t: AppText, kind: string): string {
  return t(CREDIT_KINDS[kind] ?? 'app.creditKind.other');
}
