import websocket from '@fastify/websocket';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Cluster } from '../cluster/cluster.js';
import type { Config } from '../config.js';
import type { TokenIssuer } from '../identity/tokens.js';
import type { UserRepository } from '../identity/users.js';
import type { PeoplePort } from '../lobby/ports.js';
import type { SafetyRepository } from '../safety/blocks.js';
import { PersonLimiter } from '../safety/limits.js';
import type { Moderation } from '../safety/moderation.js';
import { CLOSE, SignalingHub, socketErrorHandler, type MeteringPort, type TelemetryPort } from '../signaling/hub.js';
import type { Outbox } from '../signaling/outbox.js';
import type { Clock } from '../util/clock.js';
import { MemoryLimitStore, RedisLimitStore } from '../util/limitStore.js';

const MAX_WS_FRAME = 256 * 1024;

export interface SignalingContext {
  app: FastifyInstance;
  config: Config;
  clock: Clock;
  log: Logger;
  users: UserRepository;
  safety: SafetyRepository;
  tokens: TokenIssuer;
  lobby: PeoplePort;
  meter: MeteringPort;
  moderation: Pick<Moderation, 'activeBan' | 'banNotice'>;
  telemetry: TelemetryPort;
  cluster: Cluster | undefined;
  /** Bound to the hub here: from now on the domains can reach people. */
  people: Outbox;
}

/** The signaling sockets at /ws (docs/protocol.md); the only part that knows about WebSockets. */
export async function startSignaling(c: SignalingContext) {
  const { config, moderation, cluster, log } = c;
  const hub = new SignalingHub({
    lobby: c.lobby,
    metering: c.meter,
    admission: async (user) => {
      const ban = await moderation.activeBan(user.id, user.deviceId);
      if (ban) return { ban: moderation.banNotice(ban), held: false };
      return { held: config.safety.holdReported && (await c.safety.openReportsAgainst(user.id)) > 0 };
    },
    users: c.users,
    safety: c.safety,
    // Several nodes share one count per person; a single node keeps it in memory.
    limits: new PersonLimiter(
      cluster ? new RedisLimitStore({ redis: cluster.redis, prefix: config.cluster!.prefix, log }) : new MemoryLimitStore(),
    ),
    tokens: c.tokens,
    clock: c.clock,
    log,
    // Someone connecting here replaces their connection on another node, as a second tab does on one.
    cluster: cluster && {
      nodeId: cluster.nodeId,
      connected: (userId, at) =>
        void cluster
          .connected(userId, at)
          // During a Redis outage (logged once by the cluster) this fails for every newcomer: no line each.
          .catch(
            (err: unknown) =>
              cluster.poolState === 'up' &&
              log.warn({ err: (err as Error).message, userId }, 'could not tell other nodes of a new connection'),
          ),
    },
    heartbeatIntervalMs: config.heartbeatIntervalMs,
    // A socket turned away for too many pending hellos names the same retry-after as an HTTP refusal.
    busyRetryAfterMs: config.busy.retryAfterMs,
    maxPerAddress: config.wsMaxPerAddress,
    telemetry: c.telemetry,
  });
  c.people.bind(hub);
  // A frame over the cap is closed with 1009 and logged once, at warn: it must not buy a stack trace.
  await c.app.register(websocket, { options: { maxPayload: MAX_WS_FRAME }, errorHandler: socketErrorHandler(log) });
  c.app.get('/ws', { websocket: true }, (socket, req) => hub.attach(socket, req.ip));
  return {
    part: { name: 'signaling', needs: ['calls', 'metering', 'safety'], stop: () => hub.closeAll(CLOSE.goingAway, 'server shutting down') },
    hub,
  };
}
