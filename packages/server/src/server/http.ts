import fs from 'node:fs';
import cookie from '@fastify/cookie';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import { ERRORS } from '@duet/protocol';
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { DestinationStream, Logger } from 'pino';
import type { Config } from '../config.js';
import { addressKey } from '../util/address.js';
import { useZodValidation } from '../web/validation.js';

/**
 * One log line per API request, when it is answered, with the request in it (Fastify writes two:
 * incoming and completed); static assets and the WebSocket upgrade stay quiet. Errors, stream
 * failures and the rest are Fastify's own lines.
 */
class OneLinePerRequest extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (this.isLogDisabled(request)) return;
    if (error) reply.log.error({ req: request, res: reply, err: error, responseTime: reply.elapsedTime }, 'request errored');
    else reply.log.info({ req: request, res: reply, responseTime: reply.elapsedTime }, 'request completed');
  }
}

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
    logController: new OneLinePerRequest({ disableRequestLogging: (req: { url?: string }) => !req.url?.startsWith('/api/') }),
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

/** What the node's load looks like now: how late the event loop runs, and HTTP requests in flight. */
export class LoadGauge {
  static readonly TICK_MS = 50;
  #lagMs = 0;
  #inFlight = 0;
  #expected = performance.now() + LoadGauge.TICK_MS;
  readonly #timer: NodeJS.Timeout;

  constructor() {
    this.#timer = setInterval(() => {
      const t = performance.now();
      // A moving average: one long task (a GC pause, a heavy request) does not make the node
      // "busy"; a loop that stays late does, within a few ticks, and it clears as quickly.
      this.#lagMs += 0.25 * (t - this.#expected - this.#lagMs);
      this.#expected = t + LoadGauge.TICK_MS;
    }, LoadGauge.TICK_MS);
    this.#timer.unref();
  }

  /** How late the event loop has been running lately, ms (a moving average over ticks of 50 ms). */
  get lagMs(): number {
    return this.#lagMs;
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
 * work is done for them, and the SDK waits and tries again. People already under way (rules,
 * calls, everything on an open socket) are never refused. The retry-after is spread between one and
 * two times `retryAfterMs` so that a refused crowd does not come back at one instant.
 */
export function shedLoad(app: FastifyInstance, busy: Config['busy'], gauge = new LoadGauge()): LoadGauge {
  let refused = 0;
  let lastWarn = 0;
  app.addHook('onRequest', async (req, reply) => {
    const url = req.url;
    const upgrade = url === '/ws' || url.startsWith('/ws?');
    const fresh = upgrade || (req.method === 'POST' && url === '/api/session');
    const saturated = (busy.lagMs > 0 && gauge.lagMs > busy.lagMs) || (busy.pending > 0 && gauge.inFlight >= busy.pending);
    if (fresh && saturated) {
      refused += 1;
      const now = Date.now();
      if (now - lastWarn > 10_000) {
        app.log.warn(
          { refused, lagMs: Math.round(gauge.lagMs), inFlight: gauge.inFlight },
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
