import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { identityRoutes } from '../identity/routes.js';
import type { TokenIssuer } from '../identity/tokens.js';
import type { UserRepository } from '../identity/users.js';
import type { CountsPort, StandingPort } from '../lobby/ports.js';
import type { WelcomeCredits } from '../metering/welcome.js';
import type { Relay } from '../relay/relay.js';
import type { StaffAccounts } from '../safety/staff.js';
import type { Storage } from '../storage/database.js';
import type { Funnel } from '../telemetry/funnel.js';
import { Insights } from '../telemetry/insights.js';
import type { DuetMetrics } from '../telemetry/metrics.js';
import { telemetryRoutes } from '../telemetry/routes.js';
import type { Clock } from '../util/clock.js';
import { serveWebApp } from '../web/static.js';

const POOL_UNAVAILABLE = 'Redis unavailable: matching paused; people waiting keep their place and are matched when it is back.';
const DEFAULT_WEB_DIR = fileURLToPath(new URL('../../../../apps/web/dist', import.meta.url));

export interface WebContext {
  app: FastifyInstance;
  config: Config;
  clock: Clock;
  log: Logger;
  storage: Storage;
  relay: Relay;
  users: UserRepository;
  tokens: TokenIssuer;
  lobby: CountsPort & Pick<StandingPort, 'rulesAccepted'>;
  welcome: WelcomeCredits;
  funnel: Funnel;
  metrics: DuetMetrics;
  staff: StaffAccounts;
  /** True once shutdown has begun: /healthz answers 503 so balancers stop sending people here. */
  closing: () => boolean;
}

/** What a browser and an operator's tooling ask of the node: sessions, health, metrics, insights and the web app. */
export async function startWeb(c: WebContext) {
  const { app, config, clock, log, lobby, relay, storage, funnel } = c;
  // 503 only while shutting down. A shared pool that is unavailable is 200 'degraded': Redis is
  // shared, so every node sees the same outage, and a balancer that took them all out would cut the
  // calls in progress and the people waiting, who keep their place here (docs/deployment.md).
  app.get('/healthz', async (_req, reply) => {
    const r = relay.status();
    const closing = c.closing();
    const pool = c.metrics.sharedPool?.poolState;
    const warnings = [...(r.warning ? [r.warning] : []), ...(pool === 'unavailable' ? [POOL_UNAVAILABLE] : [])];
    const body = {
      status: closing ? 'shutting_down' : pool === 'unavailable' ? 'degraded' : 'ok',
      storage: storage.kind,
      ...(pool ? { pool: pool === 'up' ? 'shared' : 'unavailable' } : {}),
      relay: { mode: r.mode, state: r.state },
      ...(warnings.length > 0 ? { warnings } : {}),
      online: lobby.online,
      waiting: lobby.waiting,
      calls: lobby.activeCalls,
    };
    return reply.code(closing ? 503 : 200).send(body);
  });
  identityRoutes(app, {
    users: c.users,
    tokens: c.tokens,
    lobby,
    clock,
    rateLimitPerMinute: config.sessionRateLimit,
    onSession: (userId) => funnel.record(userId, 'page_opened'),
    onCreated: async (userId, from) => {
      const outcome = await c.welcome.grant(userId, from, clock.now());
      if (outcome === 'address_limit' || outcome === 'device_seen') log.info({ userId, outcome }, 'no welcome credits for this guest');
    },
  });
  telemetryRoutes(app, {
    metrics: c.metrics,
    insights: new Insights(storage.db),
    staff: c.staff,
    clock,
    metricsToken: config.metricsToken,
  });
  const web = await serveWebApp(app, config.webDir ?? DEFAULT_WEB_DIR);
  if (web === 'missing') log.warn('web app not built: serving API and signaling only');
  return { part: { name: 'web', needs: ['storage', 'calls', 'metering', 'safety'] } };
}
