import { randomUUID } from 'node:crypto';
import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../packages/server/src/testing/fakeClock.js';
import { useTestServer } from './harness.js';

const clock = new FakeClock(Date.UTC(2026, 10, 28, 9, 0, 0));
const CREDIT = 1_000_000;
const WEBHOOK_SECRET = 'whsec_test_payments_0123456789';
const ADMIN = 'operator-api-token-payments-0123';
const stripe = new Stripe('sk_test_unused');

/**
 * Top-ups are credited from what was paid (the TOPUP_PACKS price table), never from the checkout's
 * metadata; refused payments are answered, logged and written to the audit log.
 */
describe('Stripe top-ups credit what was paid', () => {
  const server = useTestServer({
    env: { PRICE_PER_MINUTE: '1', STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET, TOPUP_PACKS: 'eur:100=1,eur:500=5.5', ADMIN_TOKEN: ADMIN },
    create: { clock },
  });

  let n = 0;
  const checkout = (userId: string, o: { amount: number; currency: string; credits?: string }) => {
    n += 1;
    const metadata: Record<string, string> = { duet_user_id: userId, ...(o.credits ? { credits: o.credits } : {}) };
    return JSON.stringify({
      id: `evt_pay_${n}`,
      object: 'event',
      type: 'checkout.session.completed',
      data: {
        object: {
          id: `cs_pay_${n}`,
          object: 'checkout.session',
          payment_status: 'paid',
          amount_total: o.amount,
          currency: o.currency,
          metadata,
        },
      },
    });
  };
  const sign = (payload: string, at = clock.now()) =>
    stripe.webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET, timestamp: Math.floor(at / 1000) });
  const send = async (s: ReturnType<typeof server>, payload: string, signature = sign(payload)) => {
    const res = await fetch(`${s.httpUrl}/api/billing/stripe-webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'stripe-signature': signature },
      body: payload,
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const balance = async (s: ReturnType<typeof server>, token: string) =>
    ((await s.request('GET', '/api/me/billing', { token })).body as { balanceMicros: number }).balanceMicros;
  const audit = async (s: ReturnType<typeof server>) =>
    (
      (await (await fetch(`${s.httpUrl}/api/admin/audit`, { headers: { authorization: `Bearer ${ADMIN}` } })).json()) as {
        entries: Array<{ action: string; target: string; detail: { reason: string } }>;
      }
    ).entries;

  it('credits what the table says for the amount paid, whatever metadata.credits claims, once per session', async () => {
    const s = server();
    const guest = await s.guest();
    const forged = checkout(guest.userId, { amount: 100, currency: 'eur', credits: '9000000000' });
    expect((await send(s, forged)).body).toEqual({ received: true, credited: true });
    expect(await balance(s, guest.token)).toBe(1 * CREDIT); // not 9,000,000,000
    // Retried by Stripe: credited once.
    expect((await send(s, forged)).body).toEqual({ received: true, credited: false });
    // A normal pack, without any credits in metadata.
    expect((await send(s, checkout(guest.userId, { amount: 500, currency: 'EUR' }))).body).toEqual({ received: true, credited: true });
    expect(await balance(s, guest.token)).toBe(6.5 * CREDIT);
  });

  it('refuses an unknown person, another currency and an amount not in the table, and records each for the operator', async () => {
    const s = server();
    const guest = await s.guest();
    const stranger = randomUUID();
    expect((await send(s, checkout(stranger, { amount: 100, currency: 'eur' }))).body).toEqual({
      received: true,
      credited: false,
      refused: 'unknown_user',
    });
    expect((await send(s, checkout(guest.userId, { amount: 100, currency: 'usd' }))).body).toEqual({
      received: true,
      credited: false,
      refused: 'currency_mismatch',
    });
    expect((await send(s, checkout(guest.userId, { amount: 99, currency: 'eur', credits: '1' }))).body).toEqual({
      received: true,
      credited: false,
      refused: 'amount_not_in_table',
    });
    expect(await balance(s, guest.token)).toBe(0);
    const refused = (await audit(s)).filter((e) => e.action === 'topup_refused');
    expect(refused.map((e) => e.detail.reason).sort()).toEqual(['amount_not_in_table', 'currency_mismatch', 'unknown_user']);
  });

  it('refuses a signature dated beyond the tolerance, in the future as in the past', async () => {
    const s = server();
    const guest = await s.guest();
    const future = checkout(guest.userId, { amount: 100, currency: 'eur' });
    expect((await send(s, future, sign(future, clock.now() + 3600_000))).status).toBe(400);
    const past = checkout(guest.userId, { amount: 100, currency: 'eur' });
    expect((await send(s, past, sign(past, clock.now() - 3600_000))).status).toBe(400);
    expect(await balance(s, guest.token)).toBe(0);
    // Within the tolerance (a minute of clock skew either way) it is accepted.
    const skewed = checkout(guest.userId, { amount: 100, currency: 'eur' });
    expect((await send(s, skewed, sign(skewed, clock.now() + 60_000))).body).toEqual({ received: true, credited: true });
  });
});
