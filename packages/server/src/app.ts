import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import websocket from '@fastify/websocket';
import type { IceServer } from '@duet/protocol';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { recordCalls } from './calls/recorder.js';
import type { Config } from './config.js';
import { identityRoutes } from './identity/routes.js';
import { resolveSecret } from './identity/secret.js';
import { TokenIssuer } from './identity/tokens.js';
import { UserRepository } from './identity/users.js';
import { Lobby } from './lobby/lobby.js';
import { FifoQueue } from './matchmaking/fifoQueue.js';
import { SafetyRepository } from './safety/blocks.js';
import { CLOSE, SignalingHub } from './signaling/hub.js';
import { openStorage, type Storage } from './storage/database.js';
import { systemClock, type Clock } from './util/clock.js';
import { PendingWrites } from './util/tasks.js';
import { serveWebApp } from './web/static.js';

export interface DuetServer {
  readonly app: FastifyInstance;
  readonly lobby: Lobby;
  readonly hub: SignalingHub;
  readonly storage: Storage;
  readonly log: Logger;
  /** Starts listening; resolves to the bound URL. */
  listen(): Promise<string>;
  /** Graceful shutdown: calls told `server_shutdown`, sockets closed, writes flushed, storage closed. Safe to call twice. */
  close(): Promise<void>;
}

export interface CreateOptions {
  clock?: Clock;
  /** Overrides the storage file; ':memory:' in tests. */
  sqliteFile?: string;
}

const MAX_WS_FRAME = 256 * 1024;
const DEFAULT_WEB_DIR = fileURLToPath(new URL('../../../apps/web/dist', import.meta.url));

export async function createDuetServer(config: Config, options: CreateOptions = {}): Promise<DuetServer> {
  const clock = options.clock ?? systemClock;
  const app = Fastify({
    logger: {
      level: config.logLevel,
      redact: { paths: ['req.headers.authorization', 'token', '*.token'], censor: '[redacted]' },
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
  const iceServers: IceServer[] = config.stunUrls.length > 0 ? [{ urls: [...config.stunUrls] }] : [];

  const lobby = new Lobby({
    matchmaker: new FifoQueue(),
    clock,
    log,
    connectTimeoutMs: config.connectTimeoutMs,
    // The hub is created just below; the lobby only sends once people have connected through it.
    send: (userId, message) => hub.send(userId, message),
    iceServersFor: () => iceServers,
    safety: {
      block: (blocker, blocked, callId) => writes.track('block', safety.block(blocker, blocked, callId, clock.now())),
      report: (r) => writes.track('report', safety.report({ ...r, now: clock.now() })),
    },
  });
  const hub = new SignalingHub({ lobby, users, safety, tokens, clock, log, heartbeatIntervalMs: config.heartbeatIntervalMs });
  recordCalls(lobby, storage.db, writes);

  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        connectSrc: ["'self'"],
        mediaSrc: ["'self'", 'blob:'],
        imgSrc: ["'self'", 'data:', 'blob:'],
        scriptSrc: ["'self'"],
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

  let closing = false;
  app.get('/healthz', async (_req, reply) => {
    const body = { status: closing ? 'shutting_down' : 'ok', storage: storage.kind, online: lobby.online, waiting: lobby.waiting, calls: lobby.activeCalls };
    return reply.code(closing ? 503 : 200).send(body);
  });

  identityRoutes(app, { users, tokens, lobby, clock, rateLimitPerMinute: config.sessionRateLimit });

  await app.register(websocket, { options: { maxPayload: MAX_WS_FRAME } });
  app.get('/ws', { websocket: true }, (socket, req) => hub.attach(socket, req.ip));

  const web = await serveWebApp(app, config.webDir ?? DEFAULT_WEB_DIR);
  if (web === 'missing') log.warn('web app not built: serving API and signaling only');

  let closed: Promise<void> | undefined;
  const close = () =>
    (closed ??= (async () => {
      closing = true;
      lobby.shutdown();
      hub.closeAll(CLOSE.goingAway, 'server shutting down');
      await app.close();
      await writes.flush();
      await storage.close();
      log.info('shut down');
    })());

  return {
    app,
    lobby,
    hub,
    storage,
    log,
    close,
    listen: () => app.listen({ port: config.port, host: config.host }),
  };
}
