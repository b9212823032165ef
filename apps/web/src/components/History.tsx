import type { BillingCall, BillingCredit, BillingInfo } from '@duet/client';
import { useEffect, useState } from 'react';
import { useAppText } from '../i18n/index.js';
import { chargeFor, credits, creditKindLabel, dateLabel, duration, durationWords, fullDate, priceLabel, timeLabel } from '../money.js';
import { useModal } from './useModal.js';

export type HistoryLine = { kind: 'call'; at: number; call: BillingCall } | { kind: 'credit'; at: number; credit: BillingCredit };

/** Calls and credit movements together, newest first. */
export function linesOf(billing: BillingInfo): HistoryLine[] {
  const lines: HistoryLine[] = [
    ...billing.calls.map((call) => ({ kind: 'call' as const, at: call.at, call })),
    ...billing.credits.map((credit) => ({ kind: 'credit' as const, at: credit.at, credit })),
  ];
  return lines.sort((a, b) => b.at - a.at);
}

/**
 * The person's usage: each call's date, billable time and charge (never who it was with), and
 * credits added or taken, with a receipt for each line.
 */
export function History({
  billing,
  accountId,
  onClose,
  onRefresh,
}: {
  billing: BillingInfo | null;
  accountId: string | null;
  onClose: () => void;
  onRefresh: () => Promise<unknown>;
}) {
  const t = useAppText();
  const modal = useModal(onClose);
  const [receipt, setReceipt] = useState<HistoryLine | null>(null);
  const [loading, setLoading] = useState(true);

  // Fresh numbers each time the history opens.
  useEffect(() => {
    let cancelled = false;
    void onRefresh().finally(() => !cancelled && setLoading(false));
    return () => {
      cancelled = true;
    };
  }, [onRefresh]);

  const lines = billing ? linesOf(billing) : [];
  return (
    <dialog
      ref={modal.ref}
      className="drawer"
      data-testid="history"
      aria-labelledby="history-title"
      aria-modal="true"
      onClick={modal.onClick}
    >
      <div className="drawer-inner">
        <header className="drawer-head">
          <h2 id="history-title">{t('app.history.title')}</h2>
          <button type="button" className="btn small" data-testid="history-close" onClick={modal.close}>
            {t('app.action.close')}
          </button>
        </header>
        {billing && (
          <div className="drawer-summary">
            <div>
              <span className="wallet-label">{t('app.wallet.balance')}</span>
              <strong data-testid="history-balance" data-micros={billing.balanceMicros}>
                {credits(t, billing.balanceMicros)}
              </strong>
            </div>
            <span className="muted">{priceLabel(t, billing.price)}</span>
          </div>
        )}
        {!billing && loading && <p className="muted drawer-note">{t('app.history.loading')}</p>}
        {!billing && !loading && <p className="muted drawer-note">{t('app.history.failed')}</p>}
        {billing && lines.length === 0 && <p className="muted drawer-note">{t('app.history.empty')}</p>}
        {lines.length > 0 && (
          <ol className="history-list">
            {lines.map((line, i) =>
              line.kind === 'call' ? (
                <li
                  key={`c-${line.call.callId}`}
                  className="history-line"
                  data-testid="history-call"
                  data-call-id={line.call.callId}
                  data-charge-micros={line.call.chargeMicros}
                  data-billed-ms={line.call.billedMs}
                >
                  <span className="h-title">{t('app.history.call', { duration: duration(line.call.billedMs) })}</span>
                  <span className="h-amount">{credits(t, -line.call.chargeMicros)}</span>
                  <span className="h-when">{t('app.history.when', { date: dateLabel(t, line.at), time: timeLabel(t, line.at) })}</span>
                  <button type="button" className="linkish" data-testid="receipt-open" onClick={() => setReceipt(line)}>
                    {t('app.receipt.title')}
                  </button>
                </li>
              ) : (
                <li
                  key={`k-${i}-${line.at}`}
                  className="history-line credit"
                  data-testid="history-credit"
                  data-kind={line.credit.kind}
                  data-amount-micros={line.credit.amountMicros}
                >
                  <span className="h-title">{creditKindLabel(t, line.credit.kind)}</span>
                  <span className={`h-amount ${line.credit.amountMicros > 0 ? 'plus' : ''}`}>
                    {credits(t, line.credit.amountMicros, { sign: true })}
                  </span>
                  <span className="h-when">{t('app.history.when', { date: dateLabel(t, line.at), time: timeLabel(t, line.at) })}</span>
                  <button type="button" className="linkish" data-testid="receipt-open" onClick={() => setReceipt(line)}>
                    {t('app.receipt.title')}
                  </button>
                </li>
              ),
            )}
          </ol>
        )}
        <p className="drawer-fine muted">
          {t('app.history.private')}
          {accountId && (
            <> {t.rich('app.history.account', { id: accountId, code: (chunks) => <code data-testid="account-id">{chunks}</code> })}</>
          )}
        </p>
      </div>
      {receipt && billing && <Receipt line={receipt} billing={billing} accountId={accountId} onClose={() => setReceipt(null)} />}
    </dialog>
  );
}

/**
 * A printable receipt: plain facts on white, and Print. The price is stated only when today's
 * price explains the charge; otherwise the charge stands on its own (prices can change).
 */
export function Receipt({
  line,
  billing,
  accountId,
  onClose,
}: {
  line: HistoryLine;
  billing: BillingInfo;
  accountId: string | null;
  onClose: () => void;
}) {
  const t = useAppText();
  const modal = useModal(onClose);
  const [printedAt] = useState(() => Date.now());
  /** Label, value, and whether the row is the total. */
  const rows: Array<[string, string, boolean]> = [];
  let number: string | null = null;
  if (line.kind === 'call') {
    const c = line.call;
    number = c.callId;
    rows.push([t('app.receipt.date'), fullDate(t, c.at), false]);
    rows.push([t('app.receipt.item'), t('app.receipt.videoCall'), false]);
    rows.push([
      t('app.receipt.duration'),
      t('app.receipt.durationValue', { words: durationWords(t, c.billedMs), clock: duration(c.billedMs) }),
      false,
    ]);
    const priced = chargeFor(c.billedMs, billing.price) === c.chargeMicros;
    rows.push([t('app.receipt.price'), priced ? priceLabel(t, billing.price) : t('app.receipt.priceThen'), false]);
    rows.push([t('app.receipt.charge'), credits(t, c.chargeMicros, { exact: true }), true]);
  } else {
    const k = line.credit;
    rows.push([t('app.receipt.date'), fullDate(t, k.at), false]);
    rows.push([t('app.receipt.item'), creditKindLabel(t, k.kind), false]);
    rows.push([
      k.amountMicros >= 0 ? t('app.receipt.credited') : t('app.receipt.debited'),
      credits(t, Math.abs(k.amountMicros), { exact: true }),
      true,
    ]);
  }
  return (
    <dialog ref={modal.ref} className="receipt-dialog" onClick={modal.onClick} aria-labelledby="receipt-title" aria-modal="true">
      <article className="receipt" data-testid="receipt">
        <header className="receipt-head">
          <div>
            <h2 id="receipt-title">{t('app.receipt.title')}</h2>
            <p className="receipt-service">Duet · {location.host}</p>
          </div>
          {number && <p className="receipt-number">{t.rich('app.receipt.number', { number, span: (chunks) => <span>{chunks}</span> })}</p>}
        </header>
        <dl className="receipt-rows">
          {rows.map(([k, v, total]) => (
            <div key={k} className={total ? 'total' : ''}>
              <dt>{k}</dt>
              <dd>{v}</dd>
            </div>
          ))}
          <div className="balance">
            <dt>{t('app.receipt.balanceOn', { date: fullDate(t, printedAt) })}</dt>
            <dd data-testid="receipt-balance">{credits(t, billing.balanceMicros, { exact: true })}</dd>
          </div>
        </dl>
        {accountId && <p className="receipt-fine">{t('app.receipt.account', { id: accountId })}</p>}
        <p className="receipt-fine">{t('app.receipt.fine')}</p>
        <div className="receipt-actions">
          <button type="button" className="btn primary" data-testid="receipt-print" onClick={() => window.print()}>
            {t('app.receipt.print')}
          </button>
          <button type="button" className="btn" data-testid="receipt-close" onClick={modal.close}>
            {t('app.action.close')}
          </button>
        </div>
      </article>
    </dialog>
  );
}
