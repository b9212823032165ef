import { useState } from 'react';
import { useConsoleText } from '../i18n/index.js';
import { UUID, type T } from './format.js';
import { credits } from './money.js';
import { FormStatus, SectionHead } from './parts.js';
import { useFormAction, useSession } from './session.js';

/** "+5", "-2.5", "0.25": at most six decimals, a micro-credit. */
const AMOUNT = /^[+-]?\d+(\.\d{1,6})?$/;

/**
 * Admins: correct a balance, or give back what a call cost. Both are compensating entries in the
 * ledger (nothing is edited or deleted) with the reason in the audit log.
 */
export function Credits() {
  const t = useConsoleText();
  return (
    <>
      <SectionHead title={t('console.credits.title')} sub={t('console.credits.sub')} />
      <div className="two-col even">
        <AdjustForm />
        <RefundForm />
      </div>
    </>
  );
}

/** Micro-credits of a valid amount string, without floating-point surprises ("0.1" → 100000). */
function microsOf(amount: string): number {
  const [whole = '0', frac = ''] = amount.replace(/^[+-]/, '').split('.');
  const micros = Number(whole) * 1_000_000 + Number(frac.padEnd(6, '0'));
  return amount.startsWith('-') ? -micros : micros;
}

/** Both forms' reason goes into the audit log. */
function reasonProblem(t: T, reason: string): string | null {
  return reason.length < 3 ? t('console.credits.badReason') : null;
}

function AdjustForm() {
  const { api } = useSession();
  const t = useConsoleText();
  const form = useFormAction();
  const [userId, setUserId] = useState('');
  const [amount, setAmount] = useState('');
  const [reason, setReason] = useState('');

  const a = amount.trim();
  const valid = AMOUNT.test(a) && microsOf(a) !== 0;
  const micros = valid ? microsOf(a) : 0;
  const u = userId.trim();
  const r = reason.trim();

  const submit = form.onSubmit(
    'adjust',
    () => {
      if (!UUID.test(u)) return t('console.credits.badUser');
      if (!valid) return t('console.credits.badAmount');
      return reasonProblem(t, r);
    },
    async () => {
      const balance = (await api.adjustCredits({ userId: u, credits: micros / 1_000_000, reason: r })).balanceMicros;
      setAmount('');
      setReason('');
      const values = { amount: credits(t, Math.abs(micros)), id: u.slice(0, 8), balance: credits(t, balance) };
      return micros > 0 ? t('console.credits.added', values) : t('console.credits.tookAway', values);
    },
  );

  return (
    <form className="card form" onSubmit={submit} noValidate aria-labelledby="adjust-title" data-testid="adjust-form">
      <header className="card-head">
        <h2 id="adjust-title">{t('console.credits.adjust')}</h2>
      </header>
      <label className="field">
        <span>{t('console.banForm.userId')}</span>
        <input
          data-testid="adjust-user"
          value={userId}
          onChange={(e) => setUserId(e.target.value)}
          placeholder="xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"
          spellCheck={false}
          autoComplete="off"
        />
      </label>
      <label className="field">
        <span>{t('console.credits.amount')}</span>
        <input
          data-testid="adjust-credits"
          value={amount}
          onChange={(e) => setAmount(e.target.value)}
          inputMode="decimal"
          placeholder={t('console.credits.amountPlaceholder')}
          autoComplete="off"
        />
      </label>
      <label className="field">
        <span>{t('console.credits.reason')}</span>
        <input
          data-testid="adjust-reason"
          value={reason}
          onChange={(e) => setReason(e.target.value)}
          maxLength={500}
          placeholder={t('console.credits.adjustReasonPlaceholder')}
        />
      </label>
      <FormStatus error={form.error} done={form.done} errorTestId="adjust-error" doneTestId="adjust-result" />
      <button className={`btn wide ${micros < 0 ? 'danger' : 'primary'}`} data-testid="adjust-submit" type="submit" disabled={form.busy}>
        {form.busy
          ? t('console.common.saving')
          : valid
            ? t(micros > 0 ? 'console.credits.add' : 'console.credits.takeAway', { amount: credits(t, Math.abs(micros)) })
            : t('console.credits.adjustButton')}
      </button>
    </form>
  );
}

function RefundForm() {
  const { api } = useSession();
  const t = useConsoleText();
  const form = useFormAction();
  const [userId, setUserId] = useState('');
  const [callId, setCallId] = useState('');
  const [reason, setReason] = useState('');

  const u = userId.trim();
  const c = callId.trim();
  const r = reason.trim();

  const submit = form.onSubmit(
    'refund',
    () => {
      if (!UUID.test(u)) return t('console.credits.badRefundUser');
      if (!UUID.test(c)) return t('console.credits.badCall');
      return reasonProblem(t, r);
    },
    async () => {
      const refunded = (await api.refundCall({ userId: u, callId: c, reason: r })).refundedMicros;
      setCallId('');
      setReason('');
      return t('console.credits.refunded', { amount: credits(t, refunded), id: u.slice(0, 8), call: c.slice(0, 8) });
    },
  );

  return (
    <form className="card form" onSubmit={submit} noValidate aria-labelledby="refund-title" data-testid="refund-form">
      <header className="card-head">
        <h2 id="refund-title">{t('console.credits.refund')}</h2>
      </header>
      <label className="field">
        <span>{t('console.credits.refundUser')}</span>
        <input
          data-testid="refund-user"
          value={userId}
          onChange={(e) => setUserId(e.target.value)}
          placeholder="xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"
          spellCheck={false}
          autoComplete="off"
        />
      </label>
      <label className="field">
        <span>{t('console.credits.refundCall')}</span>
        <input
          data-testid="refund-call"
          value={callId}
          onChange={(e) => setCallId(e.target.value)}
          placeholder="xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"
          spellCheck={false}
          autoComplete="off"
        />
      </label>
      <label className="field">
        <span>{t('console.credits.reason')}</span>
        <input
          data-testid="refund-reason"
          value={reason}
          onChange={(e) => setReason(e.target.value)}
          maxLength={500}
          placeholder={t('console.credits.refundReasonPlaceholder')}
        />
      </label>
      <FormStatus error={form.error} done={form.done} errorTestId="refund-error" doneTestId="refund-result" />
      <button className="btn primary wide" data-testid="refund-submit" type="submit" disabled={form.busy}>
        {form.busy ? t('console.credits.refunding') : t('console.credits.refundButton')}
      </button>
      <p className="fine muted">{t('console.credits.refundNote')}</p>
    </form>
  );
}
