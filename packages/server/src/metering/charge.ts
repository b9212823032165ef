import { type Ledger, userAccount } from './ledger.js';

/** What posting a call charge did: all of it, nothing new (the ref was posted before), or less (`short`). */
export type ChargeOutcome = { kind: 'posted' | 'duplicate' | 'short'; amount: number };

/**
 * Posts one person's charge for a call under its idempotent ref (`call:<call>:<user>:<units>`),
 * down to the balance floor and never past it: when the balance cannot cover `amount`, what it still
 * can is charged (the time was used; it is not given away) and the outcome is `short`.
 */
export async function postCallCharge(
  ledger: Ledger,
  c: { callId: string; userId: string; units: number; amount: number; overdraftMicros: number; meta: Record<string, unknown> },
  now: number,
): Promise<ChargeOutcome> {
  const account = userAccount(c.userId);
  const post = (amount: number) =>
    ledger.post(
      {
        ref: `call:${c.callId}:${c.userId}:${c.units}`,
        kind: 'charge',
        entries: [
          { account, amount: -amount },
          { account: 'revenue', amount },
        ],
        meta: { ...c.meta, ...(amount < c.amount ? { partial: true } : {}) },
        floor: { account, min: -c.overdraftMicros },
      },
      now,
    );
  const result = await post(c.amount);
  if (result === 'posted') return { kind: 'posted', amount: c.amount };
  if (result === 'duplicate') return { kind: 'duplicate', amount: 0 };
  const available = (await ledger.balance(account)) + c.overdraftMicros;
  if (available <= 0) return { kind: 'short', amount: 0 };
  const rest = Math.min(available, c.amount);
  return { kind: 'short', amount: (await post(rest)) === 'posted' ? rest : 0 };
}
