import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Calls } from '../calls/calls.js';
import type { CallRecords } from '../calls/recorder.js';
import type { Cluster } from '../cluster/cluster.js';
import type { Config } from '../config.js';
import type { UserRepository } from '../identity/users.js';
import type { Lobby } from '../lobby/lobby.js';
import { billingAdminRoutes } from '../metering/adminRoutes.js';
import { Ledger } from '../metering/ledger.js';
import { Meter } from '../metering/meter.js';
import { stripeWebhook } from '../metering/payments.js';
import { billingRoutes } from '../metering/routes.js';
import { reconcileCharges, recoverOpenCalls } from '../metering/settle.js';
import { WelcomeCredits } from '../metering/welcome.js';
import type { Moderation } from '../safety/moderation.js';
import type { StaffAccounts } from '../safety/staff.js';
import type { Delivery } from '../signaling/outbox.js';
import type { Storage } from '../storage/database.js';
import type { Clock } from '../util/clock.js';
import type { PendingWrites } from '../util/tasks.js';
import type { TokenIssuer } from '../identity/tokens.js';

export interface MeteringContext {
  app: FastifyInstance;
  config: Config;
  clock: Clock;
  log: Logger;
  storage: Storage;
  writes: PendingWrites;
  secret: string;
  tokens: TokenIssuer;
  users: UserRepository;
  lobby: Pick<Lobby, 'restore'> & { calls: Pick<Calls, 'endById' | 'sendInCall'> };
  records: CallRecords;
  cluster: Cluster | undefined;
  staff: StaffAccounts;
  moderation: Moderation;
  people: Delivery;
}

/**
 * Minutes and money: the ledger, the meter, what a previous process left open (resumed or settled),
 * reconciliation, welcome credits, top-ups and the billing routes (docs/billing.md).
 */
export async function startMetering(c: MeteringContext) {
  const { config, clock, log, storage, writes, lobby, cluster } = c;
  const ledger = new Ledger(storage.db, storage.kind);
  const price = { perMinuteMicros: config.billing.perMinuteMicros, rounding: config.billing.rounding };
  const overdraftMicros = config.billing.overdraftMicros;
  const timers: NodeJS.Timeout[] = [];
  const every = (ms: number, what: string, work: () => Promise<unknown>) => {
    const t = setInterval(() => writes.track(what, work()), ms);
    t.unref();
    timers.push(t);
  };
  // A previous process that died mid-call left its calls open: calls with media moments ago wait
  // for their people to come back (the reconnect grace window); the rest are settled at their last
  // heartbeat. A node of a cluster settles (never resumes) its own and dead nodes' calls.
  const recover = (o: { resumeWithinMs: number | null; nodes?: readonly string[] }) =>
    recoverOpenCalls(storage.db, ledger, price, clock.now(), log, { ...o, overdraftMicros });
  const resumable = cluster ? [] : await recover({ resumeWithinMs: config.reconnectGraceMs + 4 * config.billing.heartbeatMs });
  if (cluster) {
    const nodeId = cluster.nodeId;
    await recover({ resumeWithinMs: null, nodes: [nodeId] });
    every(Math.max(1_000, 5 * config.cluster!.heartbeatMs), 'settle calls of dead nodes', async () => {
      const open = await storage.db
        .selectFrom('calls')
        .select('node')
        .distinct()
        .where('ended_at', 'is', null)
        .where('node', 'is not', null)
        .where('node', '!=', nodeId)
        .execute();
      const dead = await cluster.deadNodes(open.map((r) => r.node!));
      if (dead.length > 0) await recover({ resumeWithinMs: null, nodes: dead });
    });
  }
  // Final charges that did not land (a database hiccup, a crash between two writes) are posted now,
  // and every hour for calls that ended more than ten minutes earlier.
  const reconcile = (since: number, until: number) =>
    reconcileCharges(storage.db, ledger, price, { since, until, now: clock.now(), overdraftMicros, log });
  if (!cluster) await reconcile(clock.now() - 24 * 3600_000, clock.now() + 1);
  every(3_600_000, 'reconcile charges', () => reconcile(clock.now() - 3 * 3600_000, clock.now() - 10 * 60_000));

  const meter = new Meter({
    calls: lobby.calls,
    ledger,
    db: storage.db,
    records: c.records,
    writes,
    clock,
    log,
    // A call's two people may be on two nodes: the calls know where to deliver.
    send: (userId, message) =>
      'callId' in message && message.callId ? lobby.calls.sendInCall(message.callId, userId, message) : c.people.send(userId, message),
    price,
    heartbeatMs: config.billing.heartbeatMs,
    overdraftMicros,
    maxCallMs: config.billing.maxCallMs,
    silenceMs: config.billing.silenceMs,
    dailyFreeMs: config.billing.dailyFreeMinutes * 60_000,
  });
  const welcome = new WelcomeCredits({
    db: storage.db,
    ledger,
    micros: config.billing.welcomeMicros,
    perAddressPerDay: config.billing.welcomePerAddressPerDay,
    secret: c.secret,
  });
  billingRoutes(c.app, { ledger, tokens: c.tokens, config, meter });
  billingAdminRoutes(c.app, { db: storage.db, ledger, staff: c.staff, moderation: c.moderation, clock, costs: config.billing.costs });
  if (config.billing.stripe) {
    stripeWebhook(c.app, {
      ledger,
      clock,
      ...config.billing.stripe,
      userExists: async (userId) => (await c.users.get(userId)) !== undefined,
      // Refused payments land in the audit log, where an operator looks for what needs a hand.
      recordRefusal: (r) => c.moderation.audit(null, 'topup_refused', r.sessionId, r),
    });
  }
  return {
    part: { name: 'metering', needs: ['storage', 'calls', 'safety'], stop: () => timers.forEach(clearInterval) },
    meter,
    welcome,
    /** Calls a previous process left open that their people may come back to (metering goes on). */
    resume: () => {
      const byId = new Map(resumable.map((r) => [r.id, r]));
      for (const call of lobby.restore(resumable)) meter.restore(call, byId.get(call.id)!.meter, byId.get(call.id)!.charged);
    },
  };
}
