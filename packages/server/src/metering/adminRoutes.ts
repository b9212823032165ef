import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import type { Moderation } from '../safety/moderation.js';
import type { StaffAccounts } from '../safety/staff.js';
import type { Db } from '../storage/database.js';
import type { Clock } from '../util/clock.js';
import { type Ledger, userAccount } from './ledger.js';
import { MICROS } from './pricing.js';
import { expects, useZodValidation, type ZodTypeProvider } from '../web/validation.js';

const DAY = 86_400_000;
const adjustBody = expects(
  z.strictObject({
    userId: z.string().uuid(),
    /** Credits to add (positive) or take away (negative). */
    credits: z
      .number()
      .finite()
      .refine((v) => v !== 0, 'not zero'),
    reason: z.string().trim().min(3).max(500),
  }),
  'Adjust with {"userId", "credits" (not 0), "reason"}.',
);
const refundBody = expects(
  z.strictObject({ userId: z.string().uuid(), callId: z.string().uuid(), reason: z.string().trim().min(3).max(500) }),
  'Refund with {"userId", "callId", "reason"}.',
);
const range = expects(
  z
    .strictObject({ from: z.coerce.number().int().min(0), to: z.coerce.number().int().min(0) })
    .refine((q) => q.to > q.from && q.to - q.from <= 400 * DAY, '`to` must be after `from`, at most 400 days later.'),
  'Query ?from=<ms>&to=<ms> (at most 400 days).',
);

export interface CostModel {
  /** Relay bandwidth, per GB carried. */
  relayPerGbMicros: number;
  /** Server cost per hour (all nodes). */
  serverPerHourMicros: number;
  /** The payment provider's fee, percent of top-ups. */
  paymentFeePercent: number;
}

const bad = (reply: FastifyReply, message: string) => reply.code(400).send({ error: { code: 'invalid_request', message } });

/**
 * Money in the console (admins): adjustments and refunds as compensating entries with a reason in
 * the audit log; and the unit economics — minutes, revenue, cost and margin per minute, per day.
 */
export function billingAdminRoutes(
  app: FastifyInstance,
  d: { db: Db; ledger: Ledger; staff: StaffAccounts; moderation: Moderation; clock: Clock; costs: CostModel },
): void {
  useZodValidation(app).register(async (scope) => {
    const admin = scope.withTypeProvider<ZodTypeProvider>();
    admin.addHook(
      'onRequest',
      d.staff.guard('admin', () => d.clock.now()),
    );

    admin.post('/api/admin/credits/adjust', { schema: { body: adjustBody } }, async (req, reply) => {
      const { userId, credits, reason } = req.body;
      const micros = Math.round(credits * MICROS);
      if (micros === 0 || Math.abs(micros) > 1_000_000 * MICROS)
        return bad(reply, 'Adjust by at least 0.000001 and at most 1,000,000 credits.');
      const ref = `adjust:${randomUUID()}`;
      await d.ledger.post(
        {
          ref,
          kind: 'adjustment',
          entries: [
            { account: 'adjustments', amount: -micros },
            { account: userAccount(userId), amount: micros },
          ],
          meta: { reason, by: req.staff!.email },
        },
        d.clock.now(),
      );
      await d.moderation.audit(req.staff!, 'credit_adjust', userId, { micros, reason });
      return reply.code(201).send({ balanceMicros: await d.ledger.balance(userAccount(userId)) });
    });

    admin.post('/api/admin/credits/refund', { schema: { body: refundBody } }, async (req, reply) => {
      const { userId, callId, reason } = req.body;
      const call = await d.db.selectFrom('calls').select('ended_at').where('id', '=', callId).executeTakeFirst();
      if (call && call.ended_at === null)
        return reply.code(409).send({ error: { code: 'out_of_turn', message: 'That call is still going: refund it once it has ended.' } });
      const charged = -(await d.ledger.sumByRef(userAccount(userId), `call:${callId}:${userId}:`));
      if (charged <= 0) return reply.code(404).send({ error: { code: 'not_found', message: 'No charge for that person and call.' } });
      const result = await d.ledger.post(
        {
          ref: `refund:${callId}:${userId}`,
          kind: 'refund',
          entries: [
            { account: 'revenue', amount: -charged },
            { account: userAccount(userId), amount: charged },
          ],
          meta: { callId, reason, by: req.staff!.email },
        },
        d.clock.now(),
      );
      if (result === 'duplicate')
        return reply.code(409).send({ error: { code: 'out_of_turn', message: 'That call was already refunded.' } });
      await d.moderation.audit(req.staff!, 'refund', callId, { userId, micros: charged, reason });
      return reply.code(201).send({ refundedMicros: charged });
    });

    admin.get('/api/admin/economics', { schema: { querystring: range } }, async (req) => {
      const { from, to } = req.query;
      const calls = await d.db
        .selectFrom('calls')
        .select(['ended_at', 'billed_ms', 'bytes_relayed'])
        .where('ended_at', '>=', from)
        .where('ended_at', '<', to)
        .execute();
      const money = await d.db
        .selectFrom('ledger_entries')
        .innerJoin('ledger_txns', 'ledger_txns.id', 'ledger_entries.txn_id')
        .select(['ledger_txns.created_at', 'ledger_txns.kind', 'ledger_entries.account', 'ledger_entries.amount'])
        .where('ledger_txns.created_at', '>=', from)
        .where('ledger_txns.created_at', '<', to)
        .where('ledger_entries.account', 'in', ['revenue', 'payments'])
        .execute();
      const days = new Map<string, { day: string; minutes: number; revenueMicros: number; topupMicros: number; relayGb: number }>();
      const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);
      const at = (ms: number) => {
        const k = dayOf(ms);
        let v = days.get(k);
        if (!v) days.set(k, (v = { day: k, minutes: 0, revenueMicros: 0, topupMicros: 0, relayGb: 0 }));
        return v;
      };
      // Both people are billed for their own minutes: a call's billable time counts twice.
      for (const c of calls) {
        const v = at(Number(c.ended_at));
        v.minutes += (2 * Number(c.billed_ms)) / 60_000;
        v.relayGb += Number(c.bytes_relayed ?? 0) / 1e9;
      }
      for (const m of money) {
        const v = at(m.created_at);
        if (m.account === 'revenue') v.revenueMicros += m.amount;
        if (m.account === 'payments' && m.kind === 'topup') v.topupMicros += -m.amount;
      }
      const c = d.costs;
      const report = [...days.values()]
        .sort((x, y) => (x.day < y.day ? -1 : 1))
        .map((v) => {
          const costMicros = Math.round(
            v.relayGb * c.relayPerGbMicros + 24 * c.serverPerHourMicros + (v.topupMicros * c.paymentFeePercent) / 100,
          );
          return {
            ...v,
            minutes: Math.round(v.minutes * 100) / 100,
            relayGb: Math.round(v.relayGb * 1000) / 1000,
            costMicros,
            marginMicros: v.revenueMicros - costMicros,
            perMinute:
              v.minutes > 0
                ? {
                    revenueMicros: Math.round(v.revenueMicros / v.minutes),
                    costMicros: Math.round(costMicros / v.minutes),
                    marginMicros: Math.round((v.revenueMicros - costMicros) / v.minutes),
                  }
                : null,
          };
        });
      return { from, to, costModel: c, days: report };
    });
  });
}
