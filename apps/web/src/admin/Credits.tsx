import { useState } from 'react';
import { UUID } from './format.js';
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
  return (
    <>
      <SectionHead title="Adjust & refund" sub="New ledger entries with your reason in the audit log; nothing is edited or deleted." />
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
function reasonProblem(reason: string): string | null {
  return reason.length < 3 ? 'Give a reason (at least 3 characters): it goes into the audit log.' : null;
}

function AdjustForm() {
  const { api } = useSession();
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
      if (!UUID.test(u))
        return 'A user id is a full UUID. People find theirs at the bottom of their usage history; it is also on their receipts.';
      if (!valid) return 'Enter the credits to add (e.g. 5) or take away (e.g. -2.5), up to six decimals, not 0.';
      return reasonProblem(r);
    },
    async () => {
      const balance = (await api.adjustCredits({ userId: u, credits: micros / 1_000_000, reason: r })).balanceMicros;
      setAmount('');
      setReason('');
      return `${micros > 0 ? 'Added' : 'Took away'} ${credits(Math.abs(micros))} ${micros > 0 ? 'to' : 'from'} ${u.slice(0, 8)}. Their balance is now ${credits(balance)}.`;
    },
  );

  return (
    <form className="card form" onSubmit={submit} noValidate aria-label="Adjust a balance" data-testid="adjust-form">
      <header className="card-head">
        <h2>Adjust a balance</h2>
      </header>
      <label className="field">
        <span>User id</span>
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
        <span>Credits (+ to add, − to take away)</span>
        <input
          data-testid="adjust-credits"
          value={amount}
          onChange={(e) => setAmount(e.target.value)}
          inputMode="decimal"
          placeholder="e.g. 5 or -2.5"
          autoComplete="off"
        />
      </label>
      <label className="field">
        <span>Reason (for the audit log)</span>
        <input
          data-testid="adjust-reason"
          value={reason}
          onChange={(e) => setReason(e.target.value)}
          maxLength={500}
          placeholder="e.g. Goodwill after a dropped call"
        />
      </label>
      <FormStatus error={form.error} done={form.done} errorTestId="adjust-error" doneTestId="adjust-result" />
      <button className={`btn wide ${micros < 0 ? 'danger' : 'primary'}`} data-testid="adjust-submit" type="submit" disabled={form.busy}>
        {form.busy ? 'Saving…' : valid ? `${micros > 0 ? 'Add' : 'Take away'} ${credits(Math.abs(micros))}` : 'Adjust balance'}
      </button>
    </form>
  );
}

function RefundForm() {
  const { api } = useSession();
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
      if (!UUID.test(u)) return 'A user id is a full UUID: the person who was charged.';
      if (!UUID.test(c)) return 'A call id is a full UUID. It is the number on the person’s receipt, and in the call’s details.';
      return reasonProblem(r);
    },
    async () => {
      const refunded = (await api.refundCall({ userId: u, callId: c, reason: r })).refundedMicros;
      setCallId('');
      setReason('');
      return `Refunded ${credits(refunded)} to ${u.slice(0, 8)} for call ${c.slice(0, 8)}.`;
    },
  );

  return (
    <form className="card form" onSubmit={submit} noValidate aria-label="Refund a call" data-testid="refund-form">
      <header className="card-head">
        <h2>Refund a call</h2>
      </header>
      <label className="field">
        <span>User id (who was charged)</span>
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
        <span>Call id (on their receipt)</span>
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
        <span>Reason (for the audit log)</span>
        <input
          data-testid="refund-reason"
          value={reason}
          onChange={(e) => setReason(e.target.value)}
          maxLength={500}
          placeholder="e.g. The call had no sound"
        />
      </label>
      <FormStatus error={form.error} done={form.done} errorTestId="refund-error" doneTestId="refund-result" />
      <button className="btn primary wide" data-testid="refund-submit" type="submit" disabled={form.busy}>
        {form.busy ? 'Refunding…' : 'Refund everything charged for this call'}
      </button>
      <p className="fine muted">A call is refunded once, in full, to the person who paid; their partner’s charge is separate.</p>
    </form>
  );
}
