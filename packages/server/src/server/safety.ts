import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Calls } from '../calls/calls.js';
import type { Cluster } from '../cluster/cluster.js';
import type { Config } from '../config.js';
import type { TokenIssuer } from '../identity/tokens.js';
import type { StandingPort } from '../lobby/ports.js';
import type { SafetyRepository } from '../safety/blocks.js';
import { Moderation, type OtherNodes } from '../safety/moderation.js';
import { safetyRoutes } from '../safety/routes.js';
import { Screening } from '../safety/screening.js';
import { screeningRoutes } from '../safety/screeningRoutes.js';
import { StaffAccounts } from '../safety/staff.js';
import type { Delivery } from '../signaling/outbox.js';
import type { Storage } from '../storage/database.js';
import { pruneTelemetry } from '../telemetry/retention.js';
import type { Clock } from '../util/clock.js';
import type { PendingWrites } from '../util/tasks.js';

export interface SafetyContext {
  app: FastifyInstance;
  config: Config;
  clock: Clock;
  log: Logger;
  storage: Storage;
  writes: PendingWrites;
  tokens: TokenIssuer;
  lobby: Pick<StandingPort, 'setHeld' | 'removeBanned'>;
  calls: Pick<Calls, 'endById' | 'kept'>;
  cluster: Cluster | undefined;
  people: Delivery;
  safety: SafetyRepository;
}

/** How long the console waits for the other nodes: a dead or stuck node costs this, not the page. */
const LIVE_CALLS_WAIT_MS = 1_000;
const END_CALL_WAIT_MS = 2_000;

/** The console's questions to the other nodes, over the cluster channel (docs/safety.md). */
function otherNodes(cluster: Cluster, log: Logger): OtherNodes {
  return {
    liveCalls: async () => {
      try {
        const { answers, silent } = await cluster.ask({ q: 'live_calls' }, LIVE_CALLS_WAIT_MS);
        return { calls: answers.flatMap((a) => a.answer.calls), silent };
      } catch (err) {
        log.warn({ err }, 'could not ask the other nodes for their live calls');
        return { calls: [], silent: ['other nodes'] };
      }
    },
    endCall: async (callId) => {
      const { answers } = await cluster.ask({ q: 'end_call', callId }, END_CALL_WAIT_MS);
      return answers.find((a) => a.answer.ended)?.node;
    },
  };
}

/** Moderators and their console: staff accounts, reports, bans, live calls; evidence and telemetry retention. */
export async function startSafety(c: SafetyContext) {
  const { config, clock, log, storage, writes, people, cluster } = c;
  const staff = new StaffAccounts(storage.db, config.adminToken);
  if (config.bootstrapAdmin && !(await staff.exists(config.bootstrapAdmin.email))) {
    await staff.create(config.bootstrapAdmin.email, config.bootstrapAdmin.password, 'admin', clock.now());
    log.info({ email: config.bootstrapAdmin.email }, 'created the first admin account');
  }
  // Held or released here and on every other node (the person may wait there).
  const setHeld = (userId: string, held: boolean) => {
    c.lobby.setHeld(userId, held);
    cluster
      ?.broadcast({ t: 'held', userId, held })
      .catch((err: unknown) => log.error({ err, userId }, 'could not tell other nodes of a hold'));
  };
  const moderation = new Moderation({
    db: storage.db,
    lobby: { setHeld, removeBanned: (userId) => c.lobby.removeBanned(userId) },
    calls: c.calls,
    node: cluster?.nodeId ?? 'local',
    ...(cluster ? { otherNodes: otherNodes(cluster, log) } : {}),
    clock,
    log,
    kick: (userId, ban) => {
      people.kick(userId, ban);
      // They may be connected to another node: every node hears of the ban.
      cluster
        ?.broadcast({ t: 'banned', userId, ban })
        .catch((err: unknown) => log.error({ err, userId }, 'could not tell other nodes of a ban'));
    },
    warn: (userId, message) => people.send(userId, { type: 'warning', message }),
    ...config.safety,
  });
  const prune = () => {
    writes.track('retention', pruneTelemetry(storage.db, config.retention, clock.now(), log));
    writes.track('evidence retention', moderation.pruneEvidence());
  };
  prune();
  const hourly = setInterval(prune, 3_600_000);
  hourly.unref();
  safetyRoutes(c.app, { staff, moderation, tokens: c.tokens, clock, secureCookies: config.tls !== undefined || config.trustProxy });
  // Blur-first screening (docs/safety.md): viewers' flags become reports; enough viewers hold a person.
  c.safety.holdOnScreeningFlags(config.screening.holdViewers);
  screeningRoutes(c.app, {
    screening: new Screening(storage.db, clock, config.screening),
    defaultMode: config.modes[0] ?? 'chat',
    tokens: c.tokens,
    log,
    // Enough viewers agree: the person is held now, not from their next connection.
    onFlag: (_callId, flaggedId, viewers) => {
      if (config.safety.holdReported && config.screening.holdViewers > 0 && viewers >= config.screening.holdViewers)
        setHeld(flaggedId, true);
    },
  });
  return { part: { name: 'safety', needs: ['storage', 'calls'], stop: () => clearInterval(hourly) }, staff, moderation };
}
