import fs from 'node:fs';
import cookie from '@fastify/cookie';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import { ERRORS } from '@duet/protocol';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { DestinationStream, Logger } from 'pino';
import type { Config } from '../config.js';
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
  return { app, log: app.log as unknown as Logger };
}
