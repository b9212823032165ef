import type { BillingCall, BillingCredit, BillingInfo } from '@duet/client';
import { useEffect, useState } from 'react';
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
    <dialog ref={modal.ref} className="drawer" data-testid="history" aria-labelledby="history-title" onClick={modal.onClick}>
      <div className="drawer-inner">
        <header className="drawer-head">
          <h2 id="history-title">Usage history</h2>
          <button type="button" className="btn small" data-testid="history-close" onClick={modal.close}>
            Close
          </button>
        </header>
        {billing && (
          <div className="drawer-summary">
            <div>
              <span className="wallet-label">Balance</span>
              <strong data-testid="history-balance" data-micros={billing.balanceMicros}>
                {credits(billing.balanceMicros)}
              </strong>
            </div>
            <span className="muted">{priceLabel(billing.price)}</span>
          </div>
        )}
        {!billing && loading && <p className="muted drawer-note">Loading…</p>}
        {!billing && !loading && (
          <p className="muted drawer-note">Your history could not be loaded. Check your connection and try again.</p>
        )}
        {billing && lines.length === 0 && (
          <p className="muted drawer-note">No calls or credits yet. Your calls will be listed here with their length and charge.</p>
        )}
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
                  <span className="h-title">Call · {duration(line.call.billedMs)}</span>
                  <span className="h-amount">{credits(-line.call.chargeMicros)}</span>
                  <span className="h-when">
                    {dateLabel(line.at)}, {timeLabel(line.at)}
                  </span>
                  <button type="button" className="linkish" data-testid="receipt-open" onClick={() => setReceipt(line)}>
                    Receipt
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
                  <span className="h-title">{creditKindLabel(line.credit.kind)}</span>
                  <span className={`h-amount ${line.credit.amountMicros > 0 ? 'plus' : ''}`}>
                    {credits(line.credit.amountMicros, { sign: true })}
                  </span>
                  <span className="h-when">
                    {dateLabel(line.at)}, {timeLabel(line.at)}
                  </span>
                  <button type="button" className="linkish" data-testid="receipt-open" onClick={() => setReceipt(line)}>
                    Receipt
                  </button>
                </li>
              ),
            )}
          </ol>
        )}
        <p className="drawer-fine muted">
          Who you talked to is never kept in your history.
          {accountId && (
            <>
              {' '}
              Your account number, for questions about credit: <code data-testid="account-id">{accountId}</code>
            </>
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
  const modal = useModal(onClose);
  const [printedAt] = useState(() => Date.now());
  const rows: Array<[string, string]> = [];
  let number: string | null = null;
  if (line.kind === 'call') {
    const c = line.call;
    number = c.callId;
    rows.push(['Date', fullDate(c.at)]);
    rows.push(['Item', 'Video call']);
    rows.push(['Duration (billed)', `${durationWords(c.billedMs)} (${duration(c.billedMs)})`]);
    const priced = chargeFor(c.billedMs, billing.price) === c.chargeMicros;
    rows.push(['Price', priced ? priceLabel(billing.price) : 'as charged at the time of the call']);
    rows.push(['Charge', credits(c.chargeMicros, { exact: true })]);
  } else {
    const k = line.credit;
    rows.push(['Date', fullDate(k.at)]);
    rows.push(['Item', creditKindLabel(k.kind)]);
    rows.push([k.amountMicros >= 0 ? 'Credited' : 'Debited', credits(Math.abs(k.amountMicros), { exact: true })]);
  }
  return (
    <dialog ref={modal.ref} className="receipt-dialog" onClick={modal.onClick} aria-labelledby="receipt-title">
      <article className="receipt" data-testid="receipt">
        <header className="receipt-head">
          <div>
            <h2 id="receipt-title">Receipt</h2>
            <p className="receipt-service">Duet · {location.host}</p>
          </div>
          {number && (
            <p className="receipt-number">
              No. <span>{number}</span>
            </p>
          )}
        </header>
        <dl className="receipt-rows">
          {rows.map(([k, v]) => (
            <div key={k} className={k === 'Charge' || k === 'Credited' || k === 'Debited' ? 'total' : ''}>
              <dt>{k}</dt>
              <dd>{v}</dd>
            </div>
          ))}
          <div className="balance">
            <dt>Balance on {fullDate(printedAt)}</dt>
            <dd data-testid="receipt-balance">{credits(billing.balanceMicros, { exact: true })}</dd>
          </div>
        </dl>
        {accountId && <p className="receipt-fine">Account {accountId}</p>}
        <p className="receipt-fine">
          Amounts in credits (1 credit = 1,000,000 micro-credits). Who you talked to is not recorded on receipts.
        </p>
        <div className="receipt-actions">
          <button type="button" className="btn primary" data-testid="receipt-print" onClick={() => window.print()}>
            Print
          </button>
          <button type="button" className="btn" data-testid="receipt-close" onClick={modal.close}>
            Close
          </button>
        </div>
      </article>
    </dialog>
  );
}
