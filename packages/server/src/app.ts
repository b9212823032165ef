import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import cookie from '@fastify/cookie';
import websocket from '@fastify/websocket';
import { ERRORS } from '@duet/protocol';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { DestinationStream, Logger } from 'pino';
import { CallRecords } from './calls/recorder.js';
import type { Config } from './config.js';
import { identityRoutes } from './identity/routes.js';
import { resolveSecret } from './identity/secret.js';
import { TokenIssuer } from './identity/tokens.js';
import { UserRepository } from './identity/users.js';
import { Lobby } from './lobby/lobby.js';
import { clusterInbox } from './lobby/clusterInbox.js';
import { wireCallLifecycle } from './lifecycle.js';
import { MemoryPool } from './matchmaking/memoryPool.js';
import { SafetyRepository } from './safety/blocks.js';
import { CLOSE, SignalingHub, socketErrorHandler } from './signaling/hub.js';
import { openStorage, type Storage } from './storage/database.js';
import { systemClock, type Clock } from './util/clock.js';
import { PendingWrites } from './util/tasks.js';
import { Funnel } from './telemetry/funnel.js';
import { Insights } from './telemetry/insights.js';
import { DuetMetrics } from './telemetry/metrics.js';
import { QualityRecorder } from './telemetry/quality.js';
import { pruneTelemetry } from './telemetry/retention.js';
import { Relay } from './relay/relay.js';
import { RelayAccounting } from './metering/relayBooks.js';
import { Cluster } from './cluster/cluster.js';
import { filterChat } from './safety/chatFilter.js';
import { PersonLimiter } from './safety/limits.js';
import { MemoryLimitStore, RedisLimitStore } from './util/limitStore.js';
import { Moderation } from './safety/moderation.js';
import { safetyRoutes } from './safety/routes.js';
import { StaffAccounts } from './safety/staff.js';
import { Ledger } from './metering/ledger.js';
import { Meter } from './metering/meter.js';
import { billingRoutes } from './metering/routes.js';
import { billingAdminRoutes } from './metering/adminRoutes.js';
import { stripeWebhook } from './metering/payments.js';
import { reconcileCharges, recoverOpenCalls } from './metering/settle.js';
import { WelcomeCredits } from './metering/welcome.js';
import type { Detector } from './verification/detector.js';
import { createWorkerDetector } from './verification/workerDetector.js';
import { verificationRoutes } from './verification/routes.js';
import { LivenessVerifier } from './verification/service.js';
import { SqlNonceStore, VerificationRepository } from './verification/sqlStore.js';
import { telemetryRoutes } from './telemetry/routes.js';
import { serveWebApp } from './web/static.js';

export interface DuetServer {
  readonly app: FastifyInstance;
  readonly lobby: Lobby;
  readonly hub: SignalingHub;
  readonly storage: Storage;
  readonly log: Logger;
  readonly metrics: DuetMetrics;
  /** Present when several nodes share Redis (REDIS_URL). */
  readonly cluster: Cluster | undefined;
  /** Resolves when every background write started so far (call records, samples, ...) is stored. */
  settled(): Promise<void>;
  /** Starts listening; resolves to the bound URL. */
  listen(): Promise<string>;
  /** Graceful shutdown: calls told `server_shutdown`, sockets closed, writes flushed, storage closed. Safe to call twice. */
  close(): Promise<void>;
  /** For a forced exit: stops child processes (the managed relay) at once. */
  abort(): void;
}

export interface CreateOptions {
  clock?: Clock;
  /** Overrides the storage file; ':memory:' in tests. */
  sqliteFile?: string;
  /** Node's process metrics (CPU, heap, event loop) in /metrics; off in tests that count exactly. */
  defaultMetrics?: boolean;
  /** Where log lines go instead of stdout (tests read them). */
  logStream?: DestinationStream;
}

const MAX_WS_FRAME = 256 * 1024;
const DEFAULT_WEB_DIR = fileURLToPath(new URL('../../../apps/web/dist', import.meta.url));

export async function createDuetServer(config: Config, options: CreateOptions = {}): Promise<DuetServer> {
  const clock = options.clock ?? systemClock;
  const app = Fastify({
    logger: {
      level: config.logLevel,
      ...(options.logStream ? { stream: options.logStream } : {}),
      redact: {
        paths: ['req.headers.authorization', 'req.headers.cookie', 'req.headers["x-csrf-token"]', 'req.headers["stripe-signature"]', 'token', '*.token', '*.password', '*.csrf', '*.credential', '*.secret'],
        censor: '[redacted]',
      },
    },
    // One log line per API request; static assets and the WebSocket upgrade stay quiet.
    logController: new LogController({ disableRequestLogging: (req: { url?: string }) => !req.url?.startsWith('/api/') }),
    trustProxy: config.trustProxy,
    bodyLimit: 64 * 1024,
    https: config.tls
      ? { cert: fs.readFileSync(config.tls.certFile), key: fs.readFileSync(config.tls.keyFile) }
      : null,
    return503OnClosing: true,
  }) as unknown as FastifyInstance;
  const log = app.log as unknown as Logger;

  const storage = await openStorage({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, ...(options.sqliteFile ? { sqliteFile: options.sqliteFile } : {}) });
  if (storage.applied.length > 0) log.info({ migrations: storage.applied, storage: storage.kind }, 'migrations applied');
  const { secret, source } = resolveSecret(config.secret, config.dataDir);
  if (source === 'generated') log.warn('generated a token signing secret in the data folder; set DUET_SECRET when running several nodes');

  const writes = new PendingWrites(log);
  const users = new UserRepository(storage.db);
  const safety = new SafetyRepository(storage.db);
  const tokens = new TokenIssuer(secret);
  const relay = new Relay(config, log);
  await relay.start();

  const cluster = config.cluster
    ? new Cluster({ ...config.cluster, policy: config.matchPolicy, log })
    : undefined;
  const lobby = new Lobby({
    matchmaker: cluster?.pool ?? new MemoryPool(config.matchPolicy),
    ...(cluster ? { cluster, presence: () => cluster.presence() } : {}),
    policy: config.matchPolicy,
    modes: config.modes,
    clock,
    log,
    connectTimeoutMs: config.connectTimeoutMs,
    reconnectGraceMs: config.reconnectGraceMs,
    holdReported: config.safety.holdReported,
    verifiedOnly: config.verification.required,
    ...(config.safety.chatFilter ? { filterChat: (text: string) => filterChat(text).text } : {}),
    // The hub is created just below; the lobby only sends once people have connected through it.
    send: (userId, message) => hub.send(userId, message),
    broadcast: (userIds, message) => hub.broadcast(userIds, message),
    iceServersFor: (userId, callId) => relay.iceServersFor(userId, clock.now(), callId),
    relay: { available: relay.available, relayOnly: config.relayOnly },
    safety: {
      block: (blocker, blocked, callId) => writes.track('block', safety.block(blocker, blocked, callId, clock.now())),
      report: (r) => writes.track('report', safety.report({ ...r, now: clock.now() })),
    },
  });
  if (cluster) {
    const receive = clusterInbox({
      lobby,
      send: (userId, message) => hub.send(userId, message),
      heartbeat: (userId, m) => {
        try {
          meter.heartbeat(userId, m);
        } catch {
          // The call ended meanwhile: nothing to meter.
        }
      },
      banned: (userId, ban) => hub.kick(userId, ban),
    });
    cluster.attach({ get online() { return lobby.online; }, waitingHere: () => lobby.waitingHere(), remoteCalls: () => lobby.calls.remoteCalls(), receive });
    await cluster.start();
  }
  const records = new CallRecords(storage, writes, config.cluster?.nodeId ?? null);
  const metrics = new DuetMetrics(lobby, { defaultMetrics: options.defaultMetrics ?? true });
  // Relayed bytes and relay use come from the relay's own accounting, never unbounded from a browser.
  const relayBooks = new RelayAccounting({ relay, records, clock, log, maxBytesPerSecond: config.turn.maxBytesPerSecond });
  const quality = new QualityRecorder({ records, db: storage.db, metrics, clock, relay: relayBooks });
  const funnel = new Funnel(storage.db, clock, writes);
  lobby.observer.on('queue:joined', (userId) => funnel.record(userId, 'queued'));
  const staff = new StaffAccounts(storage.db, config.adminToken);
  if (config.bootstrapAdmin && !(await staff.exists(config.bootstrapAdmin.email))) {
    await staff.create(config.bootstrapAdmin.email, config.bootstrapAdmin.password, 'admin', clock.now());
    log.info({ email: config.bootstrapAdmin.email }, 'created the first admin account');
  }
  const ledger = new Ledger(storage.db, storage.kind);
  let stopOrphans = () => {};
  const price = { perMinuteMicros: config.billing.perMinuteMicros, rounding: config.billing.rounding };
  // A previous process that died mid-call left its calls open: calls with media moments ago wait
  // for their people to come back (the reconnect grace window); the rest are settled at their last
  // heartbeat. A node of a cluster settles (never resumes) its own and dead nodes' calls, below.
  const recover = (o: { resumeWithinMs: number | null; nodes?: readonly string[] }) => recoverOpenCalls(storage.db, ledger, price, clock.now(), log, { ...o, overdraftMicros: config.billing.overdraftMicros });
  const resumable = config.cluster ? [] : await recover({ resumeWithinMs: config.reconnectGraceMs + 4 * config.billing.heartbeatMs });
  if (config.cluster) {
    // With several nodes, a node settles what it left open in a previous life (the same NODE_ID)
    // at start, and the calls of any node that stops beating once its alive key has lapsed.
    await recover({ resumeWithinMs: null, nodes: [config.cluster.nodeId] });
    const orphans = async () => {
      const open = await storage.db.selectFrom('calls').select('node').distinct().where('ended_at', 'is', null).where('node', 'is not', null).where('node', '!=', config.cluster!.nodeId).execute();
      const dead = await cluster!.deadNodes(open.map((r) => r.node!));
      if (dead.length > 0) await recover({ resumeWithinMs: null, nodes: dead });
    };
    const orphanTimer = setInterval(() => writes.track('settle calls of dead nodes', orphans()), Math.max(1_000, 5 * config.cluster.heartbeatMs));
    orphanTimer.unref();
    stopOrphans = () => clearInterval(orphanTimer);
  }
  // Final charges that did not land (a database hiccup, a crash between two writes) are posted now,
  // and every hour for calls that ended more than ten minutes earlier.
  const reconcile = (since: number, until: number) =>
    reconcileCharges(storage.db, ledger, price, { since, until, now: clock.now(), overdraftMicros: config.billing.overdraftMicros, log });
  if (!config.cluster) await reconcile(clock.now() - 24 * 3600_000, clock.now() + 1);
  const meter = new Meter({
    calls: lobby.calls,
    ledger,
    db: storage.db,
    records,
    writes,
    clock,
    log,
    // A call's two people may be on two nodes: the lobby knows where to deliver.
    send: (userId, message) => ('callId' in message && message.callId ? lobby.calls.sendInCall(message.callId, userId, message) : hub.send(userId, message)),
    price,
    heartbeatMs: config.billing.heartbeatMs,
    overdraftMicros: config.billing.overdraftMicros,
    maxCallMs: config.billing.maxCallMs,
    silenceMs: config.billing.silenceMs,
    dailyFreeMs: config.billing.dailyFreeMinutes * 60_000,
  });
  wireCallLifecycle(lobby.calls.observer, { records, meter, metrics, funnel, quality, relay: relayBooks });
  const resumableById = new Map(resumable.map((r) => [r.id, r]));
  for (const call of lobby.restore(resumable)) {
    const r = resumableById.get(call.id)!;
    meter.restore(call, r.meter, r.charged);
  }
  const hub = new SignalingHub({
    lobby,
    metering: meter,
    admission: async (userId) => {
      // Moderation is created just below; nobody says hello before the server listens.
      const ban = await moderation.activeBan(userId);
      if (ban) return { ban: moderation.banNotice(ban), held: false };
      return { held: config.safety.holdReported && (await safety.openReportsAgainst(userId)) > 0 };
    },
    users,
    safety,
    // Several nodes share one count per person; a single node keeps it in memory.
    limits: new PersonLimiter(cluster ? new RedisLimitStore({ redis: cluster.redis, prefix: config.cluster!.prefix, log }) : new MemoryLimitStore()),
    tokens,
    clock,
    log,
    heartbeatIntervalMs: config.heartbeatIntervalMs,
    maxPerAddress: config.wsMaxPerAddress,
    telemetry: { stats: (userId, m) => quality.accept(userId, m), funnel: (userId, step) => funnel.record(userId, step) },
  });

  const moderation = new Moderation({
    db: storage.db,
    lobby,
    calls: lobby.calls,
    clock,
    log,
    kick: (userId, ban) => {
      hub.kick(userId, ban);
      // They may be connected to another node: every node hears of the ban.
      cluster?.broadcast({ t: 'banned', userId, ban }).catch((err: unknown) => log.error({ err, userId }, 'could not tell other nodes of a ban'));
    },
    warn: (userId, message) => hub.send(userId, { type: 'warning', message }),
    ...config.safety,
  });
  const prune = () => {
    writes.track('retention', pruneTelemetry(storage.db, config.retention, clock.now(), log));
    writes.track('evidence retention', moderation.pruneEvidence());
  };
  prune();
  // Hourly; at start the pass above already covered every call ended before this process.
  const retentionTimer = setInterval(() => {
    writes.track('reconcile charges', reconcile(clock.now() - 3 * 3600_000, clock.now() - 10 * 60_000));
    prune();
  }, 3_600_000);
  retentionTimer.unref();

  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        connectSrc: ["'self'"],
        mediaSrc: ["'self'", 'blob:'],
        imgSrc: ["'self'", 'data:', 'blob:'],
        // The liveness check runs its face detector as WebAssembly in the browser.
        scriptSrc: ["'self'", "'wasm-unsafe-eval'"],
        styleSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        frameAncestors: ["'none'"],
        formAction: ["'self'"],
      },
    },
    // Camera and microphone for this origin only; nothing else.
    permittedCrossDomainPolicies: false,
    hsts: config.tls ? { maxAge: 15_552_000 } : false,
  });
  app.addHook('onSend', async (_req, reply) => {
    reply.header('permissions-policy', 'camera=(self), microphone=(self), geolocation=(), payment=()');
  });
  await app.register(rateLimit, {
    global: false,
    errorResponseBuilder: (_req, ctx) => ({
      statusCode: ctx.statusCode,
      error: { code: 'rate_limited', message: `Too many requests. Try again in ${ctx.after}.` },
    }),
  });

  // Every HTTP error leaves in one envelope with a code from the catalogue, never a stack trace.
  app.setErrorHandler((err: Error & { statusCode?: number; error?: { code?: string } }, req, reply) => {
    const status = err.statusCode ?? 500;
    if (status === 429) return reply.code(429).send({ error: { code: 'rate_limited', message: err.error ? String((err.error as { message?: string }).message) : 'Too many requests.' } });
    if (status >= 500) {
      req.log.error({ err }, 'request failed');
      return reply.code(500).send({ error: { code: 'internal', message: ERRORS.internal } });
    }
    return reply.code(status).send({ error: { code: 'invalid_request', message: err.message } });
  });

  let closing = false;
  app.get('/healthz', async (_req, reply) => {
    const r = relay.status();
    const body = {
      status: closing ? 'shutting_down' : 'ok',
      storage: storage.kind,
      relay: { mode: r.mode, state: r.state },
      ...(r.warning ? { warnings: [r.warning] } : {}),
      online: lobby.online,
      waiting: lobby.waiting,
      calls: lobby.activeCalls,
    };
    return reply.code(closing ? 503 : 200).send(body);
  });

  await app.register(cookie);
  safetyRoutes(app, { staff, moderation, tokens, clock, secureCookies: config.tls !== undefined || config.trustProxy });
  billingRoutes(app, { ledger, tokens, config, meter });
  const verificationRepo = new VerificationRepository(storage.db);
  let verifier: Promise<LivenessVerifier> | undefined;
  let detector: Detector | undefined;
  verificationRoutes(app, {
    settings: config.verification,
    // The detector's models load on first use, once; a failed load is retried by the next request.
    verifier: () =>
      (verifier ??= createWorkerDetector().then(
        (loaded) => {
          detector = loaded;
          return new LivenessVerifier({ detector: loaded, store: new SqlNonceStore(storage.db, clock), clock, validityMs: config.verification.validityMs, challenge: { ttlMs: config.verification.deadlineMs } });
        },
        (err: unknown) => {
          verifier = undefined;
          throw err;
        },
      )),
    repo: verificationRepo,
    tokens,
    staff,
    moderation,
    clock,
    log,
    onChange: (userId, until) => lobby.setVerified(userId, until),
    secret,
  });
  const welcome = new WelcomeCredits({ db: storage.db, ledger, micros: config.billing.welcomeMicros, perAddressPerDay: config.billing.welcomePerAddressPerDay, secret });
  billingAdminRoutes(app, { db: storage.db, ledger, staff, moderation, clock, costs: config.billing.costs });
  if (config.billing.stripe) {
    stripeWebhook(app, {
      ledger,
      clock,
      ...config.billing.stripe,
      userExists: async (userId) => (await users.get(userId)) !== undefined,
      // Refused payments land in the audit log, where an operator looks for what needs a hand.
      recordRefusal: (r) => moderation.audit(null, 'topup_refused', r.sessionId, r),
    });
  }
  identityRoutes(app, { users, tokens, lobby, clock, rateLimitPerMinute: config.sessionRateLimit, onSession: (userId) => funnel.record(userId, 'page_opened'),
    onCreated: async (userId, from) => {
      const outcome = await welcome.grant(userId, from, clock.now());
      if (outcome === 'address_limit' || outcome === 'device_seen') log.info({ userId, outcome }, 'no welcome credits for this guest');
    },
  });
  telemetryRoutes(app, { metrics, insights: new Insights(storage.db), staff, clock, metricsToken: config.metricsToken });

  // A frame over the cap is closed with 1009 and logged once, at warn: it must not buy a stack trace.
  await app.register(websocket, { options: { maxPayload: MAX_WS_FRAME }, errorHandler: socketErrorHandler(log) });
  app.get('/ws', { websocket: true }, (socket, req) => hub.attach(socket, req.ip));

  const web = await serveWebApp(app, config.webDir ?? DEFAULT_WEB_DIR);
  if (web === 'missing') log.warn('web app not built: serving API and signaling only');

  let closed: Promise<void> | undefined;
  const close = () =>
    (closed ??= (async () => {
      closing = true;
      clearInterval(retentionTimer);
      stopOrphans();
      lobby.shutdown();
      hub.closeAll(CLOSE.goingAway, 'server shutting down');
      await app.close();
      await writes.flush();
      detector?.close();
      await cluster?.stop();
      await storage.close();
      await relay.stop();
      log.info('shut down');
    })());

  return {
    app,
    lobby,
    hub,
    storage,
    log,
    metrics,
    cluster,
    settled: () => writes.flush(),
    abort: () => relay.kill(),
    close,
    listen: () => app.listen({ port: config.port, host: config.host }),
  };
}
