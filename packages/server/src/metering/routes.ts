import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.js';
import type { TokenIssuer } from '../identity/tokens.js';
import { type Ledger, userAccount } from './ledger.js';
import type { Meter } from './meter.js';

/**
 * What a person sees of their money: balance, price, daily free minutes, and usage history (date,
 * duration, charge — never who the partner was). Free minutes are the meter's (without it: none).
 */
export function billingRoutes(
  app: FastifyInstance,
  d: { ledger: Ledger; tokens: TokenIssuer; config: Config; meter?: Pick<Meter, 'dailyFreeMs' | 'freeLeftToday'> },
): void {
  app.get('/api/me/billing', async (req, reply) => {
    const header = req.headers.authorization;
    const userId = header?.startsWith('Bearer ') ? await d.tokens.verify(header.slice(7)) : undefined;
    if (!userId) return reply.code(401).send({ error: { code: 'invalid_token', message: 'Sign in again: the session token is invalid.' } });
    const account = userAccount(userId);
    // A call posts one charge per heartbeat with media (~720 an hour): read enough to sum recent calls.
    const [balance, movements, freeLeft] = await Promise.all([
      d.ledger.balance(account),
      d.ledger.history(account, 5_000),
      d.meter?.freeLeftToday(userId) ?? 0,
    ]);
    // Charges are posted as a call goes: one line per call, with its total.
    const calls = new Map<string, { callId: string; at: number; billedMs: number; chargeMicros: number }>();
    const other: Array<{ kind: string; at: number; amountMicros: number }> = [];
    for (const m of movements) {
      const meta = m.meta ? (JSON.parse(m.meta) as { callId?: string; billedMs?: number }) : {};
      if (m.kind === 'charge' && meta.callId) {
        const line = calls.get(meta.callId) ?? { callId: meta.callId, at: m.created_at, billedMs: 0, chargeMicros: 0 };
        line.at = Math.min(line.at, m.created_at);
        line.billedMs = Math.max(line.billedMs, meta.billedMs ?? 0);
        line.chargeMicros += -m.amount;
        calls.set(meta.callId, line);
      } else {
        other.push({ kind: m.kind, at: m.created_at, amountMicros: m.amount });
      }
    }
    const b = d.config.billing;
    return {
      balanceMicros: balance,
      price: { perMinuteMicros: b.perMinuteMicros, rounding: b.rounding },
      freeMinutes: { perDay: (d.meter?.dailyFreeMs ?? 0) / 60_000, leftTodayMs: freeLeft },
      calls: [...calls.values()].sort((x, y) => y.at - x.at),
      credits: other,
    };
  });
}
