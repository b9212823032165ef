import { HEARTBEAT_INTERVAL_MS, type BillingInfo } from '@duet/client';
import { useEffect, useState } from 'react';
import { useAppText } from '../i18n/index.js';
import type { AppText } from '../messages.js';
import { chargeFor, credits, duration, priceLabel, type Price } from '../money.js';
import type { CreditLow, MeterReading } from '../useDuet.js';

/** Before Start: what the person has and what a minute costs. Only shown when calls are priced. */
export function Wallet({ billing }: { billing: BillingInfo }) {
  const t = useAppText();
  const low = billing.balanceMicros < chargeFor(60_000, billing.price);
  return (
    <div className="wallet" role="group" aria-label={t('app.wallet.label')}>
      <div className="wallet-line">
        <span className="wallet-label">{t('app.wallet.balance')}</span>
        <strong className={`wallet-balance ${low ? 'low' : ''}`} data-testid="balance" data-micros={billing.balanceMicros}>
          {credits(t, billing.balanceMicros)}
        </strong>
      </div>
      {billing.freeMinutes.perDay > 0 && (
        <div className="wallet-line">
          <span className="wallet-price" data-testid="free-minutes" data-left-ms={billing.freeMinutes.leftTodayMs}>
            {freeLeft(t, billing.freeMinutes.leftTodayMs)}
          </span>
        </div>
      )}
      <div className="wallet-line">
        <span className="wallet-price" data-testid="price">
          {priceLabel(t, billing.price)}
        </span>
      </div>
    </div>
  );
}

/** "5 free minutes left today", cut down like money: never more than is left. */
function freeLeft(t: AppText, ms: number): string {
  if (ms >= 60_000) return t('app.wallet.freeMinutes', { count: Math.floor(ms / 60_000) });
  const s = Math.floor(ms / 1000);
  return s > 0 ? t('app.wallet.freeSeconds', { count: s }) : t('app.wallet.noFree');
}

/** A clock that re-renders every `ms` while `on`; returns performance.now(). */
function useTick(on: boolean, ms: number): number {
  const [now, setNow] = useState(() => performance.now());
  useEffect(() => {
    if (!on) return;
    const t = setInterval(() => setNow(performance.now()), ms);
    return () => clearInterval(t);
  }, [on, ms]);
  return on ? now : performance.now();
}

/**
 * During a call: billable time and its running charge. The server's reading arrives with each
 * heartbeat; in between, while connected, the counter runs on locally — but never more than one
 * heartbeat past what the server last said, and never backwards.
 */
export function CallMeter({ meter, price, live }: { meter: MeterReading; price: Price | null; live: boolean }) {
  const t = useAppText();
  const now = useTick(live, 250);
  const [shown, setShown] = useState<{ callId: string; ms: number }>({ callId: meter.callId, ms: meter.billedMs });
  const ahead = live ? Math.min(Math.max(0, now - meter.at), HEARTBEAT_INTERVAL_MS) : 0;
  const target = meter.billedMs + ahead;
  const ms = shown.callId === meter.callId ? Math.max(shown.ms, target) : target;
  // Remember the highest value shown, so a server reading a little behind the local clock never winds it back.
  useEffect(() => {
    if (shown.callId !== meter.callId || shown.ms < ms) setShown({ callId: meter.callId, ms });
  }, [meter.callId, ms, shown]);
  const priced = price !== null && price.perMinuteMicros > 0;
  // Free time first (daily free minutes), as the server charges.
  const charge = priced ? Math.max(meter.chargedMicros, chargeFor(Math.max(0, ms - meter.freeMs), price)) : 0;
  const inFreeTime = priced && ms < meter.freeMs;
  return (
    <div
      className={`meter ${live ? 'ticking' : ''}`}
      data-testid="meter"
      data-billed-ms={meter.billedMs}
      data-charged-micros={priced ? charge : undefined}
      role="group"
      aria-label={t('app.meter.label')}
    >
      <span className="meter-dot" aria-hidden="true" />
      <span className="meter-time">{duration(ms)}</span>
      {priced && (
        <>
          {' '}
          <span className="meter-sep" aria-hidden="true">
            ·
          </span>{' '}
          <span className="meter-charge">{inFreeTime ? t('app.meter.free') : credits(t, charge)}</span>
        </>
      )}
    </div>
  );
}

/** "About 45 seconds of credit left", counting down while the call is connected. */
export function CreditLowNotice({ low, live }: { low: CreditLow; live: boolean }) {
  const t = useAppText();
  const now = useTick(live, 1000);
  const left = Math.max(0, low.secondsLeft - Math.floor(Math.max(0, now - low.at) / 1000));
  return (
    <div className="credit-low" role="alert" data-testid="credit-low" data-seconds-left={left}>
      <strong>
        {left >= 60 ? t('app.creditLow.minute') : left > 0 ? t('app.creditLow.seconds', { count: left }) : t('app.creditLow.out')}
      </strong>
      <span>{t('app.creditLow.ends')}</span>
    </div>
  );
}

/**
 * No credit: Start was refused, or the call ended because the credit ran out. Says so plainly,
 * with the balance and the price, and how to get more.
 */
export function NoCredit({
  billing,
  reason,
  onCheck,
  checking,
}: {
  billing: BillingInfo | null;
  reason: 'join' | 'ran-out';
  onCheck: () => void;
  checking: boolean;
}) {
  const t = useAppText();
  return (
    <div className="stage-card-wrap">
      <section
        className="stage-card no-credit"
        data-testid={reason === 'join' ? 'no-credit' : 'credit-ran-out'}
        role="alert"
        aria-labelledby="no-credit-title"
      >
        <div className="stage-card-icon" aria-hidden="true">
          <WalletIcon />
        </div>
        <h2 id="no-credit-title">{reason === 'join' ? t('app.noCredit.join') : t('app.noCredit.ranOut')}</h2>
        {billing && (
          <p className="stage-card-facts">
            {t.rich('app.noCredit.facts', {
              balance: credits(t, billing.balanceMicros),
              price: priceLabel(t, billing.price),
              strong: (chunks) => <strong>{chunks}</strong>,
            })}
          </p>
        )}
        <TopUp />
        <button type="button" className="btn" onClick={onCheck} disabled={checking}>
          {checking ? t('app.noCredit.checking') : t('app.noCredit.check')}
        </button>
      </section>
    </div>
  );
}

/**
 * Where credit comes from. There is no checkout page on this server yet (top-ups arrive through
 * the operator's payment provider), so this says who sells them instead of offering a dead button.
 */
export function TopUp() {
  const t = useAppText();
  return (
    <div className="topup" data-testid="top-up">
      <strong>{t('app.topUp.title')}</strong>
      <span>{t('app.topUp.text')}</span>
    </div>
  );
}

function WalletIcon() {
  return (
    <svg className="icon" viewBox="0 0 24 24" aria-hidden="true">
      <path d="M4 7.5A2.5 2.5 0 016.5 5H18v3" />
      <path d="M4 7.5V17a2 2 0 002 2h13a1 1 0 001-1v-9a1 1 0 00-1-1H6.5A2.5 2.5 0 014 7.5z" />
      <circle cx="16" cy="13.5" r="1.2" />
    </svg>
  );
}
