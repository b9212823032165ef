import type { FastifyInstance } from 'fastify';
import Stripe from 'stripe';
import { z } from 'zod';
import type { Clock } from '../util/clock.js';
import { type Ledger, userAccount } from './ledger.js';
import { MICROS } from './pricing.js';

const completedSession = z.object({
  id: z.string(),
  payment_status: z.string(),
  amount_total: z.number().int().nullable().optional(),
  currency: z.string().nullable().optional(),
  metadata: z.object({ duet_user_id: z.string().uuid(), credits: z.string().regex(/^\d+(\.\d{1,6})?$/) }),
});

/**
 * Top-ups through Stripe: `checkout.session.completed`, verified with Stripe's own signature check
 * on the raw body, credited once per event id (the ledger ref), whatever Stripe retries.
 */
export function stripeWebhook(app: FastifyInstance, d: { ledger: Ledger; clock: Clock; webhookSecret: string; apiKey: string | undefined }): void {
  const stripe = new Stripe(d.apiKey ?? 'sk_test_unused_for_webhook_verification');
  app.register(async (scope) => {
    // The signature covers the exact bytes Stripe sent: keep them, do not re-serialise parsed JSON.
    scope.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: 256 * 1024 }, (_req, body, done) => done(null, body));
    scope.post('/api/billing/stripe-webhook', async (req, reply) => {
      const signature = req.headers['stripe-signature'];
      let event: Stripe.Event;
      try {
        if (typeof signature !== 'string' || !Buffer.isBuffer(req.body)) throw new Error('missing signature');
        event = stripe.webhooks.constructEvent(req.body, signature, d.webhookSecret);
      } catch {
        req.log.warn('Stripe webhook with a bad signature refused');
        return reply.code(400).send({ error: { code: 'invalid_request', message: 'Bad Stripe signature.' } });
      }
      // Card payments complete at once; delayed methods (SEPA, bank transfers) complete later.
      if (event.type !== 'checkout.session.completed' && event.type !== 'checkout.session.async_payment_succeeded') return { received: true, ignored: event.type };
      const session = completedSession.safeParse(event.data.object);
      if (!session.success || session.data.payment_status !== 'paid') {
        req.log.warn({ eventId: event.id }, 'checkout session without Duet metadata or not paid; ignored');
        return { received: true, ignored: 'not a paid Duet checkout' };
      }
      const micros = Math.round(Number(session.data.metadata.credits) * MICROS);
      if (!Number.isSafeInteger(micros) || micros <= 0) return reply.code(400).send({ error: { code: 'invalid_request', message: 'Bad credits amount.' } });
      const userId = session.data.metadata.duet_user_id;
      const result = await d.ledger.post(
        {
          // One session is credited once, whichever of its events arrives (and however often).
          ref: `stripe:session:${session.data.id}`,
          kind: 'topup',
          entries: [{ account: 'payments', amount: -micros }, { account: userAccount(userId), amount: micros }],
          meta: { eventId: event.id, sessionId: session.data.id, amountTotal: session.data.amount_total ?? null, currency: session.data.currency ?? null },
        },
        d.clock.now(),
      );
      req.log.info({ eventId: event.id, userId, micros, result }, 'top-up');
      return { received: true, credited: result === 'posted' };
    });
  });
}
