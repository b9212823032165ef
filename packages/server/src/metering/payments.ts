import type { FastifyInstance } from 'fastify';
import Stripe from 'stripe';
import { z } from 'zod';
import type { TopupPack } from '../config.js';
import type { Clock } from '../util/clock.js';
import { type Ledger, userAccount } from './ledger.js';

/** How far a webhook's signed timestamp may be from our clock, either way (Stripe's default). */
export const WEBHOOK_TOLERANCE_S = 300;

const completedSession = z.object({
  id: z.string().min(1).max(255),
  payment_status: z.string(),
  amount_total: z.number().int().nullable().optional(),
  currency: z.string().nullable().optional(),
  // Who pays is set by Duet's checkout; what it credits is never read from metadata (anyone with a
  // Stripe dashboard or a checkout link can write it), only from what was paid.
  metadata: z.object({ duet_user_id: z.string().uuid() }).passthrough(),
});

/** Why a paid, correctly signed checkout credited nothing. */
export type TopupRefusal = 'unknown_user' | 'currency_mismatch' | 'amount_not_in_table';

export interface StripeWebhookDeps {
  ledger: Ledger;
  clock: Clock;
  webhookSecret: string;
  apiKey: string | undefined;
  /** The price table (TOPUP_PACKS): the only source of what a payment credits. */
  packs: readonly TopupPack[];
  userExists: (userId: string) => Promise<boolean>;
  /** Records a refused payment where an operator sees it (the audit log). */
  recordRefusal: (refusal: {
    reason: TopupRefusal;
    sessionId: string;
    eventId: string;
    userId: string;
    amountTotal: number | null;
    currency: string | null;
  }) => Promise<void>;
}

/** The signed `t=` timestamps of a Stripe-Signature header (seconds). */
export function signedTimestamps(header: string): number[] {
  return header
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.startsWith('t='))
    .map((part) => Number(part.slice(2)));
}

/** What a payment credits, by the price table; a refusal when it is not a pack Duet sells. */
export function creditsFor(
  packs: readonly TopupPack[],
  amountTotal: number | null,
  currency: string | null,
): { micros: number } | { refused: TopupRefusal } {
  const cur = currency?.toLowerCase() ?? null;
  if (cur === null || !packs.some((p) => p.currency === cur)) return { refused: 'currency_mismatch' };
  const pack = packs.find((p) => p.currency === cur && p.amountMinor === amountTotal);
  return pack ? { micros: pack.micros } : { refused: 'amount_not_in_table' };
}

/**
 * Top-ups through Stripe: `checkout.session.completed`, verified with Stripe's own signature check
 * on the raw body (and its timestamp within the tolerance both ways), credited once per session
 * with what the price table says the paid amount buys.
 */
export function stripeWebhook(app: FastifyInstance, d: StripeWebhookDeps): void {
  const stripe = new Stripe(d.apiKey ?? 'sk_test_unused_for_webhook_verification');
  app.register(async (scope) => {
    // The signature covers the exact bytes Stripe sent: keep them, do not re-serialise parsed JSON.
    scope.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: 256 * 1024 }, (_req, body, done) => done(null, body));
    scope.post('/api/billing/stripe-webhook', async (req, reply) => {
      const signature = req.headers['stripe-signature'];
      const now = d.clock.now();
      let event: Stripe.Event;
      try {
        if (typeof signature !== 'string' || !Buffer.isBuffer(req.body)) throw new Error('missing signature');
        // Stripe checks only that the timestamp is not too old; a future one would stay replayable.
        const stamps = signedTimestamps(signature);
        if (stamps.some((t) => !Number.isFinite(t) || t > now / 1000 + WEBHOOK_TOLERANCE_S)) throw new Error('timestamp in the future');
        event = stripe.webhooks.constructEvent(req.body, signature, d.webhookSecret, WEBHOOK_TOLERANCE_S, undefined, now);
      } catch (err) {
        req.log.warn({ why: err instanceof Error ? err.message : String(err) }, 'Stripe webhook with a bad signature refused');
        return reply.code(400).send({ error: { code: 'invalid_request', message: 'Bad Stripe signature.' } });
      }
      // Card payments complete at once; delayed methods (SEPA, bank transfers) complete later.
      if (event.type !== 'checkout.session.completed' && event.type !== 'checkout.session.async_payment_succeeded')
        return { received: true, ignored: event.type };
      const session = completedSession.safeParse(event.data.object);
      if (!session.success || session.data.payment_status !== 'paid') {
        req.log.warn({ eventId: event.id }, 'checkout session without Duet metadata or not paid; ignored');
        return { received: true, ignored: 'not a paid Duet checkout' };
      }
      const s = session.data;
      const userId = s.metadata.duet_user_id;
      const amountTotal = s.amount_total ?? null;
      const currency = s.currency ?? null;
      const priced = creditsFor(d.packs, amountTotal, currency);
      const refusal = 'refused' in priced ? priced.refused : (await d.userExists(userId)) ? undefined : 'unknown_user';
      if (refusal) {
        // Answered 200: Stripe retrying a payment Duet will never credit helps nobody. The operator
        // sees it in the audit log (and this line) and refunds or credits by hand.
        req.log.warn(
          { eventId: event.id, sessionId: s.id, userId, amountTotal, currency, refusal },
          'paid Stripe checkout refused: nothing credited',
        );
        await d.recordRefusal({ reason: refusal, sessionId: s.id, eventId: event.id, userId, amountTotal, currency });
        return { received: true, credited: false, refused: refusal };
      }
      const micros = (priced as { micros: number }).micros;
      const result = await d.ledger.post(
        {
          // One session is credited once, whichever of its events arrives (and however often).
          ref: `stripe:session:${s.id}`,
          kind: 'topup',
          entries: [
            { account: 'payments', amount: -micros },
            { account: userAccount(userId), amount: micros },
          ],
          meta: { eventId: event.id, sessionId: s.id, amountTotal, currency },
        },
        now,
      );
      req.log.info({ eventId: event.id, userId, micros, result }, 'top-up');
      return { received: true, credited: result === 'posted' };
    });
  });
}
