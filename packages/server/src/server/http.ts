import fs from 'node:fs';
import cookie from '@fastify/cookie';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import { ERRORS } from '@duet/protocol';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { DestinationStream, Logger } from 'pino';
import type { Config } from '../config.js';
import { addressKey } from '../util/address.js';
import { useZodValidation } from '../web/validation.js';

/**
 * The HTTP(S) server every part registers its routes on: logging with secrets redacted, security
 * headers, per-route rate limits, and one error envelope with a code from the catalogue.
 */
export async function createHttp(config: Config, logStream: DestinationStream | undefined): Promise<{ app: FastifyInstance; log: Logger }> {
  const app = Fastify({
    logger: {
      level: config.logLevel,
      ...(logStream ? { stream: logStream } : {}),
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers.cookie',
          'req.headers["x-csrf-token"]',
          'req.headers["stripe-signature"]',
          'token',
          '*.token',
          '*.password',
          '*.csrf',
          '*.credential',
          '*.secret',
        ],
        censor: '[redacted]',
      },
    },
    // One log line per API request; static assets and the WebSocket upgrade stay quiet.
    logController: new LogController({ disableRequestLogging: (req: { url?: string }) => !req.url?.startsWith('/api/') }),
    trustProxy: config.trustProxy,
    bodyLimit: 64 * 1024,
    https: config.tls ? { cert: fs.readFileSync(config.tls.certFile), key: fs.readFileSync(config.tls.keyFile) } : null,
    return503OnClosing: true,
  }) as unknown as FastifyInstance;
  // Every route's body, params and query are checked against its zod schemas before its handler.
  useZodValidation(app);

  // Security headers are the same on every response: worked out once from helmet, then set as a block.
  const headers = await securityHeaders(config);
  app.addHook('onRequest', (_req, reply, done) => {
    reply.headers(headers);
    done();
  });
  await app.register(rateLimit, {
    global: false,
    // The plugin's own key parses every IPv6 address with an object library (3 % of a node's CPU when
    // a crowd of newcomers arrived); this one groups addresses the same way (IPv6 by its /64) with string work.
    keyGenerator: (req) => addressKey(req.ip),
    errorResponseBuilder: (_req, ctx) => ({
      statusCode: ctx.statusCode,
      error: { code: 'rate_limited', message: `Too many requests. Try again in ${ctx.after}.` },
    }),
  });

  // Every HTTP error leaves in one envelope with a code from the catalogue, never a stack trace.
  app.setErrorHandler((err: Error & { statusCode?: number; error?: { code?: string } }, req, reply) => {
    const status = err.statusCode ?? 500;
    if (status === 429)
      return reply.code(429).send({
        error: { code: 'rate_limited', message: err.error ? String((err.error as { message?: string }).message) : 'Too many requests.' },
      });
    if (status >= 500) {
      req.log.error({ err }, 'request failed');
      return reply.code(500).send({ error: { code: 'internal', message: ERRORS.internal } });
    }
    return reply.code(status).send({ error: { code: 'invalid_request', message: err.message } });
  });
  await app.register(cookie);
  shedLoad(app, config.busy);
  return { app, log: app.log as unknown as Logger };
}

/**
 * Helmet's headers (CSP, frame, referrer, HSTS with TLS, ...) plus the camera's permissions policy,
 * worked out once by asking helmet on a probe server. Helmet's own hook rebuilt and set each header
 * on every request: 5 % of a node's CPU when a crowd of newcomers arrived.
 */
export async function securityHeaders(config: Pick<Config, 'tls'>): Promise<Record<string, string>> {
  const probe = Fastify();
  const plain = Fastify();
  try {
    await probe.register(helmet, {
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
    for (const f of [probe, plain]) f.get('/', async () => '');
    const [secured, bare] = await Promise.all([probe.inject('/'), plain.inject('/')]);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(secured.headers)) {
      if (!(name in bare.headers) && typeof value === 'string') headers[name] = value;
    }
    headers['permissions-policy'] = 'camera=(self), microphone=(self), geolocation=(), payment=()';
    return Object.freeze(headers) as Record<string, string>;
  } finally {
    await Promise.all([probe.close(), plain.close()]);
  }
}

/**
 * What the node's load looks like now: how late the event loop runs, how much of the time it is
 * busy, HTTP requests in flight, and so the share of new sessions it can still take.
 *
 * Lateness alone misses the commonest overload. Under a crowd the loop was busy 100 % of the time
 * for 20 s while its timers ran only 10–60 ms late (many short tasks, not one long one), and the
 * newcomers it could not get to waited in the kernel's accept queue until their clients gave up
 * (docs/benchmarks.md). So the share of new sessions taken follows the loop's utilization: while it
 * stays above `utilizationLimit` the share falls by a fifth each tick (to 5 %), and once it is a
 * tenth below, it climbs back by 5 points a tick. What the node refuses costs it a fraction of what
 * it admits, so it drains its queue instead of timing everyone out.
 */
export class LoadGauge {
  static readonly TICK_MS = 50;
  static readonly MIN_SHARE = 0.05;
  #lagMs = 0;
  #utilization = 0;
  #share = 1;
  #inFlight = 0;
  #expected = performance.now() + LoadGauge.TICK_MS;
  #elu = performance.eventLoopUtilization();
  readonly #utilizationLimit: number;
  readonly #timer: NodeJS.Timeout;

  /** `utilizationLimit` (0..1; 0: never limit by it): the loop's busy share above which fewer new sessions are taken. */
  constructor(utilizationLimit = 0) {
    this.#utilizationLimit = utilizationLimit;
    this.#timer = setInterval(() => {
      const t = performance.now();
      const elu = performance.eventLoopUtilization(this.#elu);
      this.#elu = performance.eventLoopUtilization();
      this.observe(t - this.#expected, elu.utilization);
      this.#expected = t + LoadGauge.TICK_MS;
    }, LoadGauge.TICK_MS);
    this.#timer.unref();
  }

  /** One tick's reading: how late it came, ms, and the share of the time since the last that the loop was busy. */
  observe(lateMs: number, utilization: number): void {
    // Moving averages: one long task (a GC pause, a heavy request) does not make the node "busy";
    // a loop that stays late or busy does, within a few ticks, and it clears as quickly.
    this.#lagMs += 0.25 * (lateMs - this.#lagMs);
    this.#utilization += 0.25 * (utilization - this.#utilization);
    if (this.#utilizationLimit <= 0) return;
    if (this.#utilization > this.#utilizationLimit) this.#share = Math.max(LoadGauge.MIN_SHARE, this.#share * 0.8);
    else if (this.#utilization < this.#utilizationLimit - 0.1) this.#share = Math.min(1, this.#share + 0.05);
  }

  /** How late the event loop has been running lately, ms (a moving average over ticks of 50 ms). */
  get lagMs(): number {
    return this.#lagMs;
  }

  /** The share of the time the event loop has been busy lately, 0..1 (a moving average over ticks). */
  get utilization(): number {
    return this.#utilization;
  }

  /** The share of new sessions to take now, 0.05..1 (1 unless the loop has stayed busy past the limit). */
  get newcomerShare(): number {
    return this.#share;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  started(): void {
    this.#inFlight += 1;
  }

  finished(): void {
    this.#inFlight -= 1;
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

/**
 * Backpressure that refuses politely: while the node is saturated (its event loop late by more than
 * `lagMs`, or more than `pending` requests in flight), a newcomer's first steps — a new session and
 * the signaling socket's upgrade — are answered `503 server_busy` with a Retry-After, before any
 * work is done for them, and the SDK waits and tries again. While the loop stays busier than
 * `utilization`, only a share of new sessions is taken (LoadGauge): the rest are refused the same
 * way, and those who got a session still get their socket. People already under way (rules,
 * calls, everything on an open socket) are never refused. The retry-after is spread between one and
 * two times `retryAfterMs` so that a refused crowd does not come back at one instant.
 */
export function shedLoad(app: FastifyInstance, busy: Config['busy'], gauge = new LoadGauge(busy.utilization)): LoadGauge {
  let refused = 0;
  let lastWarn = 0;
  app.addHook('onRequest', async (req, reply) => {
    const url = req.url;
    const upgrade = url === '/ws' || url.startsWith('/ws?');
    const session = req.method === 'POST' && url === '/api/session';
    const fresh = upgrade || session;
    const saturated =
      (busy.lagMs > 0 && gauge.lagMs > busy.lagMs) ||
      (busy.pending > 0 && gauge.inFlight >= busy.pending) ||
      (session && Math.random() >= gauge.newcomerShare);
    if (fresh && saturated) {
      refused += 1;
      const now = Date.now();
      if (now - lastWarn > 10_000) {
        app.log.warn(
          {
            refused,
            lagMs: Math.round(gauge.lagMs),
            utilization: Math.round(100 * gauge.utilization) / 100,
            newcomerShare: Math.round(100 * gauge.newcomerShare) / 100,
            inFlight: gauge.inFlight,
          },
          'saturated: refusing newcomers with server_busy',
        );
        lastWarn = now;
        refused = 0;
      }
      const retryAfterMs = Math.round(busy.retryAfterMs * (1 + Math.random()));
      // A refused upgrade is not an HTTP connection the server keeps: it ends after the answer.
      if (upgrade) reply.raw.once('finish', () => req.raw.socket.end());
      return reply
        .code(503)
        .header('retry-after', String(Math.ceil(retryAfterMs / 1000)))
        .send({ error: { code: 'server_busy', message: ERRORS.server_busy, retryAfterMs } });
    }
    // An upgraded socket never answers, so only plain requests are counted in flight. The response's
    // 'close' comes once whatever happens — sent, or the client gone before it was (when 'finish'
    // never comes) — so a crowd that gives up cannot leave the count high.
    if (!upgrade) {
      gauge.started();
      reply.raw.once('close', () => gauge.finished());
    }
  });
  app.addHook('onClose', async () => gauge.stop());
  return gauge;
}
